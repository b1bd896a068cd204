// SPDX-License-Identifier: BSL-1.0
// Taking clients in and letting them go: the accept loop, admitting a new
// connection (or turning it away when the server is full), starting its
// session, and what happens once the session has ended.
#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>

#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "coronet/awaitable.hpp"
#include "coronet/console.hpp"
#include "coronet/net.hpp"
#include "tcp_server/client.hpp"
#include "tcp_server/descriptors.hpp"
#include "tcp_server/line_sessions.hpp"
#include "tcp_server/options.hpp"
#include "tcp_server/server_state.hpp"
#include "tcp_server/sessions.hpp"

namespace coronet {

namespace {

// The session has ended (its completion handler has stopped the client):
// the client leaves the group. On the server's executor.
void forget(server* s, const std::shared_ptr<client>& c, const std::string& failure) {
  if (!failure.empty()) write_line(s->console.err, failure);
  s->sessions.leave(c);
  if (s->options.verbose || s->options.mode == server_mode::chat)
    write_line(s->console.err, fmt::format("{} disconnected ({})", c->name, to_string(c->why)));
  if (s->options.mode == server_mode::room && !s->sessions.stopping())
    send_to_clients(s, std::make_shared<const std::string>(fmt::format("* {} left\n", c->name)));
}

// Why a session ended with an exception, for the console ("" if it did not).
std::string describe_failure(const client& c, const std::exception_ptr& e) {
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return fmt::format("{}: unexpected error: {}", c.name, x.what());
  }
}

// Takes a new connection in, or turns it away when the server is full.
// Runs on the server's executor.
void admit(server* s, tcp::socket socket) {
  error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  socket.set_option(tcp::no_delay(true), ec);
  socket.non_blocking(true, ec);  // see fast_io.hpp, and send_last_line()
  if (s->sessions.size() >= s->options.max_connections) {
    send_last_line(socket, "error: server full");
    if (s->options.verbose || s->options.mode == server_mode::chat)
      write_line(s->console.err, fmt::format("{} turned away: server full", format_endpoint(peer)));
    socket.shutdown(tcp::socket::shutdown_both, ec);
    return;
  }
  const bool with_writer = s->options.mode != server_mode::echo;
  auto c = std::make_shared<client>(std::move(socket), format_endpoint(peer), with_writer);
  push_deadline(*c, s->options.idle_timeout);
  if (s->options.mode == server_mode::room)
    send_to_clients(s, std::make_shared<const std::string>(fmt::format("* {} joined\n", c->name)));
  s->sessions.join(c);
  if (s->options.verbose || s->options.mode == server_mode::chat)
    write_line(s->console.err, fmt::format("{} connected", c->name));
  // One coroutine per connection (echo needs no writer beside it, so no ||
  // and no frame for one), on the client's executor. When it ends, its
  // handler stops the client (a gone client holds no sender back) and the
  // client leaves the group; an exception that escaped it is reported.
  auto session = s->options.mode == server_mode::echo ? echo_lines(c, s) : read_and_write_lines(c, s);
  asio::co_spawn(c->socket.get_executor(), std::move(session), [s, c](const std::exception_ptr& e) {
    stop(*c, e ? end_reason::lost : end_reason::peer_closed);  // unless something else ended it first
    if (c->outgoing) s->room.taken(c);
    asio::dispatch(s->executor, [s, c, failure = describe_failure(*c, e)] { forget(s, c, failure); });
  });
}

// With several threads each connection runs on a strand of its own: a
// strand of the io_context's own executor where it is one, rather than of
// the type-erased any_io_executor, so that a hand-off through the strand
// does not go through a second layer of type erasure.
asio::any_io_executor executor_for_a_client(const server* s, const asio::any_io_executor& accepting) {
  if (s->options.threads == 1) return accepting;
  if (const auto* io = accepting.target<asio::io_context::executor_type>()) return asio::make_strand(*io);
  return asio::make_strand(accepting);
}

}  // namespace

// Suspends in async_accept; cancelled at shutdown.
asio::awaitable<void> accept_clients(tcp::acceptor* acceptor, server* s) {
  asio::steady_timer pause(s->executor);
  descriptor_shortage shortage(s);
  for (const auto cs = co_await asio::this_coro::cancellation_state; !cancelled(cs);) {
    auto [ec, socket] = co_await acceptor->async_accept(executor_for_a_client(s, acceptor->get_executor()),
                                                        use_nothrow_awaitable);
    if (cancelled(cs)) co_return;
    if (!ec) {
      shortage.over();
      admit(s, std::move(socket));
      continue;
    }
    if (shortage.began(ec)) {
      // Out of descriptors: turn the waiting connection away, then wait
      // until another waits (right away if one does).
      if (shortage.turn_away_one(*acceptor)) {
        co_await acceptor->async_wait(tcp::acceptor::wait_read, use_nothrow_awaitable);
        continue;
      }
    } else {
      write_line(s->console.err, fmt::format("accept failed: {}", describe(ec)));
    }
    // The listening socket stays ready: pause instead of spinning, and keep
    // serving those already connected.
    pause.expires_after(std::chrono::milliseconds(100));
    co_await pause.async_wait(use_nothrow_awaitable);
  }
}

}  // namespace coronet
