// SPDX-License-Identifier: BSL-1.0
// tcp_server: the seed's "wait on port 5000 and talk in turns" server, for
// every client at once and in both directions at the same time.
//
//   chat  each client's lines appear here as "<ADDR> text"; lines typed here
//         go to every client ('q' sends q to all and ends their sessions)
//   echo  every line goes back to its sender byte for byte
//   room  each client's line goes to every other client
//
// Try it:   tcp_server --mode chat        and from a second terminal:
//           telnet 127.0.0.1 5000    (or: nc 127.0.0.1 5000, or tcp_client)
//
// Read it in this order, one idea a file:
//   server.cpp          serve(): the parts below, run together; the shutdown
//   accept.cpp          the accept loop, admitting a client, its session's end
//   echo_session.cpp    echo: one coroutine per connection
//   line_sessions.cpp   chat and room: a reader and a writer per connection
//   operator_console.cpp  chat: the operator's lines to every client
//   watchdog.cpp        idle clients and clients that do not read
//   backpressure.hpp    slow readers hold fast senders back
//   session_group.hpp   the owner of every session
//   server_state.hpp    what the connections share; who owns what
//   client.hpp          one connection
//   descriptors.hpp     out of descriptors
//   fast_io.hpp         the speed tricks, each with the plain code it replaces
#include "tcp_server/server.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>

#include <optional>
#include <ostream>
#include <utility>

#include "coronet/awaitable.hpp"
#include "coronet/console.hpp"
#include "coronet/net.hpp"
#include "tcp_server/options.hpp"
#include "tcp_server/server_state.hpp"
#include "tcp_server/sessions.hpp"

namespace coronet {

using namespace asio::experimental::awaitable_operators;

std::optional<tcp::acceptor> open_listener(const asio::any_io_executor& executor,
                                           const server_options& options, std::ostream& err) {
  return open_server_socket<tcp::acceptor>(executor, options.listen, options.port, to_string(options.mode),
                                           "", err,
                                           [](tcp::acceptor& acceptor, const tcp::endpoint& endpoint) {
                                             error_code ec;
#ifndef _WIN32  // on Windows SO_REUSEADDR would let two servers share the port
                                             acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
#endif
                                             acceptor.bind(endpoint, ec);
                                             if (!ec)
                                               acceptor.listen(asio::socket_base::max_listen_connections, ec);
                                             return ec;
                                           });
}

asio::awaitable<void> serve(tcp::acceptor acceptor, server_options options, console con) {
  const auto executor = co_await asio::this_coro::executor;
  server s(std::move(options), con, executor);
  // Runs until cancelled; each part suspends in its own wait, and the
  // cancellation reaches each (&& waits for all three to end).
  co_await (accept_clients(&acceptor, &s) && watch_clients(&s) && relay_operator_lines(&s));

  // Shutting down. The cancellation has done its work; what follows must
  // run to its end, so it must not throw at the next co_await.
  co_await asio::this_coro::reset_cancellation_state();
  error_code ignored;
  acceptor.close(ignored);
  // The sessions end on their own executors, then leave the group, which
  // lives in this frame: wait for the last one.
  co_await s.sessions.stop_all("server shutting down");
}

}  // namespace coronet
