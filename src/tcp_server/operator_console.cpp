// SPDX-License-Identifier: BSL-1.0
// Chat mode: what the operator types at the server goes to every client; 'q'
// goes to everyone and ends each session once it is sent. The end of the
// operator's input is not a quit: a server started without a terminal keeps
// serving.
//
// The lines come from the console's stdin thread through a channel
// (coronet/console.hpp): a coroutine cannot wait on a terminal or a file
// portably, so a thread reads and hands each line over.
#include <fmt/format.h>
#include <boost/asio/this_coro.hpp>

#include <memory>
#include <string>

#include "coronet/awaitable.hpp"
#include "coronet/console.hpp"
#include "coronet/protocol.hpp"
#include "tcp_server/line_sessions.hpp"
#include "tcp_server/options.hpp"
#include "tcp_server/server_state.hpp"
#include "tcp_server/sessions.hpp"

namespace coronet {

// Suspends in console.input.receive(), or while a client's queue is full
// (the operator is a sender like any other, backpressure.hpp); cancelled at
// shutdown.
asio::awaitable<void> relay_operator_lines(server* s) {
  if (s->options.mode != server_mode::chat) co_return;
  for (const auto cs = co_await asio::this_coro::cancellation_state; !cancelled(cs);) {
    if (s->room.maybe_full()) {
      const bool go_on = co_await s->room.wait_for_room(nullptr);  // on this executor already
      if (!go_on) co_return;
    }
    auto [ec, typed] = co_await s->console.input.receive();
    if (ec == errc::line_too_long) {
      write_line(s->console.err,
                 fmt::format("typed line longer than {} bytes, not sent", s->options.max_line));
      continue;
    }
    if (ec) co_return;
    if (s->sessions.size() == 0)
      write_line(s->console.err, "(no client is connected: that line reached nobody)");
    const std::string_view text = strip_line_ending(typed);
    if (is_quit(text)) {
      send_to_clients(s, std::make_shared<const std::string>("q\n"), nullptr, /*close_after=*/true);
    } else {
      send_to_clients(s, std::make_shared<const std::string>(fmt::format("{}\n", text)));
    }
  }
}

}  // namespace coronet
