// SPDX-License-Identifier: BSL-1.0
// chat and room: each connection is a reader and a writer, joined with ||.
//
//   chat  a client's lines go to the operator's console as "<ADDR> text";
//         the operator's lines (operator_console.cpp) go to every client
//   room  a client's line goes to every other client as "<ADDR> text"
//
// ADDR is written as everywhere else, 127.0.0.1:40312 or [::1]:40312.
//
// The reader reads the client's lines and hands them on; the writer sends
// what others queued for the client. Whichever ends first (a 'q', a limit,
// the operator's 'q' sent, stop()) cancels the other. The end of the
// client's input (a half-close) ends neither: the client may still listen. Lines travel between executors: a
// reader's line goes to the server's executor, which hands it to each client's executor, where it is queued
// (backpressure.hpp) and its writer wakes.
#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coronet/awaitable.hpp"
#include "coronet/protocol.hpp"
#include "tcp_server/client.hpp"
#include "tcp_server/fast_io.hpp"
#include "tcp_server/line_sessions.hpp"
#include "tcp_server/options.hpp"
#include "tcp_server/server_state.hpp"
#include "tcp_server/sessions.hpp"

namespace coronet {

using namespace asio::experimental::awaitable_operators;

void send_to_clients(server* s, const shared_line& line, const client* except, bool close_after) {
  for (const auto& c : s->sessions.clients()) {
    if (c.get() == except) continue;
    asio::dispatch(c->socket.get_executor(),
                   [s, c, line, close_after] { s->room.enqueue(c, line, close_after); });
  }
}

namespace {

// A client's line: on the operator's console (chat) or to everyone else
// (room), made terminal-safe either way: a room participant on telnet or nc
// sees it on a terminal too, and no peer may drive a terminal.
void deliver(server* s, const std::shared_ptr<client>& from, std::string_view text) {
  std::string line = fmt::format("<{}> ", from->name);
  append_terminal_safe(line, text);
  if (s->options.mode == server_mode::chat) {
    tell_operator(s, s->console.out, std::move(line));
    return;
  }
  line.push_back('\n');
  asio::dispatch(s->executor, [s, from, shared = std::make_shared<const std::string>(std::move(line))] {
    send_to_clients(s, shared, from.get());
  });
}

// The client has half-closed: it has said all it will, but it may still
// listen (`echo question | nc -N host port` waits for the answer). The
// writer goes on sending what others queue for it until the idle timeout,
// the operator's q, or shutdown; the reader waits for an error on the socket
// (the peer resetting the connection), or to be cancelled. (A peer that
// closed, or died, looks the same as one that half-closed until a write to
// it fails.)
asio::awaitable<void> wait_after_half_close(std::shared_ptr<client> c) {
  auto [ec] = co_await c->socket.async_wait(tcp::socket::wait_error, use_nothrow_awaitable);
  if (!ec) note_end(*c, end_reason::lost);  // else cancelled: the writer has ended
}

// Reads the client's lines until it says 'q', half-closes, or breaks a limit.
// Suspends in the wait for readability, or while held back; the writer
// ending (or stop()) ends either.
// NOLINTNEXTLINE(readability-function-cognitive-complexity): one loop; each co_return is a way a session ends
asio::awaitable<void> read_lines(std::shared_ptr<client> c, server* s) {
  line_splitter splitter(s->options.max_line);
  bool drained = false;
  while (true) {
    if (s->room.maybe_full()) {
      // Held back while another client's queue is full; the wait runs on
      // the server's executor (backpressure.hpp), and this coroutine
      // suspends until it is over.
      const bool go_on = co_await asio::co_spawn(s->executor, s->room.wait_for_room(c), asio::use_awaitable);
      if (!go_on) co_return;
    }
    if (drained) {  // as in echo_session.cpp
      if (splitter.pending().empty()) splitter.release_if_empty();
      auto [ec] = co_await wait_readable(c->socket);
      if (ec) {
        note_end(*c, end_reason::lost);
        co_return;
      }
    }
    if (const error_code ec = read_arrived(c->socket, splitter, drained)) {
      if (ec == asio::error::would_block) continue;
      if (ec != asio::error::eof) {
        note_end(*c, end_reason::lost);
        co_return;
      }
      if (!splitter.pending().empty()) deliver(s, c, splitter.pending());  // a last line without LF
      co_await wait_after_half_close(c);
      co_return;
    }
    for (auto r = splitter.next(); r.what != line_splitter::status::need_more; r = splitter.next()) {
      if (r.what == line_splitter::status::too_long) {
        stop(*c, end_reason::line_too_long, too_long_message(s->options.max_line));
        co_return;
      }
      push_deadline(*c, s->options.idle_timeout);
      if (is_quit(r.value.text)) {
        note_end(*c, end_reason::quit);
        co_return;
      }
      deliver(s, c, r.value.text);
    }
  }
}

// Sends what others queued for this client: everything waiting, in one
// gathered write. Suspends in the write or, with nothing to send, on the
// queue's wake timer, which a new line and stop() cancel.
asio::awaitable<void> write_queued_lines(std::shared_ptr<client> c, server* s) {
  outgoing_lines& out = *c->outgoing;
  std::vector<shared_line> sending;
  std::vector<asio::const_buffer> buffers;
  for (const auto cs = co_await asio::this_coro::cancellation_state; !cancelled(cs) && !c->stopped;) {
    if (out.lines.empty()) {
      if (out.close_when_sent) {
        note_end(*c, end_reason::operator_quit);
        co_return;
      }
      out.wake.expires_at(steady_clock::time_point::max());
      co_await out.wake.async_wait(use_nothrow_awaitable);  // woken (operation_aborted), or cancelled
      continue;
    }
    sending.swap(out.lines);
    s->room.taken(c);
    buffers.clear();
    for (const auto& line : sending) buffers.push_back(asio::buffer(*line));
    auto [ec, n] = co_await asio::async_write(c->socket, buffers, use_nothrow_awaitable);
    sending.clear();
    if (ec) {
      note_end(*c, end_reason::lost);
      co_return;
    }
  }
}

}  // namespace

asio::awaitable<void> read_and_write_lines(std::shared_ptr<client> c, server* s) {
  co_await (read_lines(c, s) || write_queued_lines(c, s));
}

}  // namespace coronet
