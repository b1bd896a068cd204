// SPDX-License-Identifier: BSL-1.0
// What the connections share, and the rule of who owns what in tcp_server.
//
// serve() owns the server's state (`server`, below) and does not return
// until every coroutine it started has ended: the accept loop, the watchdog
// and the operator's relay are joined with `&&`, and every session belongs
// to the session group, which serve() waits to empty. Handlers the sessions
// queue on the server's executor run before that, in order, so they end
// before it too. So each coroutine and handler of the server holds a plain
// pointer to the state, valid for its whole life. A client record is the one
// thing shared, by std::shared_ptr (client.hpp). Sockets, buffers and queues
// belong to their client.
//
// Executors: the state is touched only on the server's executor, each
// client only on its own. With one thread both are the io_context's; with
// several, each is a strand, and whatever crosses from one to the other goes
// through asio::dispatch.
#pragma once

#include <fmt/format.h>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/dispatch.hpp>

#include <cstddef>
#include <ostream>
#include <string>
#include <utility>

#include "coronet/console.hpp"
#include "tcp_server/backpressure.hpp"
#include "tcp_server/options.hpp"
#include "tcp_server/session_group.hpp"

namespace coronet {

struct server {
  server(server_options o, const coronet::console& c, const asio::any_io_executor& ex)
      : options(std::move(o)), console(c), executor(ex), sessions(ex), room(ex, options.room_queue) {}

  const server_options options;
  const coronet::console console;
  const asio::any_io_executor executor;
  session_group sessions;
  backpressure room;  // chat and room: slow readers hold senders back
};

// A line for the operator's console. Callable from any executor: the console
// is written only on the server's.
inline void tell_operator(server* s, std::ostream& stream, std::string line) {
  asio::dispatch(s->executor, [&stream, line = std::move(line)] { write_line(stream, line); });
}

inline std::string too_long_message(std::size_t max_line) {
  return fmt::format("error: line longer than {} bytes", max_line);
}

}  // namespace coronet
