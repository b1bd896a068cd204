// SPDX-License-Identifier: BSL-1.0
// tcp_client: finding the server. The name is resolved (IPv6 and IPv4
// addresses, in the system's order), each address is tried in turn with a
// timeout, and the first that accepts gets the conversation (conversation.cpp).
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <chrono>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "coronet/awaitable.hpp"
#include "coronet/console.hpp"
#include "coronet/net.hpp"
#include "coronet/protocol.hpp"
#include "tcp_client/client.hpp"

namespace coronet {

using namespace asio::experimental::awaitable_operators;

asio::awaitable<std::tuple<error_code, tcp::socket>> connect_to_first(std::vector<tcp::endpoint> endpoints,
                                                                      std::chrono::milliseconds timeout,
                                                                      console con, bool verbose) {
  const auto executor = co_await asio::this_coro::executor;
  error_code last_error = asio::error::host_not_found;  // when there is no address at all
  for (const auto& endpoint : endpoints) {
    if (verbose) write_line(con.err, fmt::format("trying {}", format_endpoint(endpoint)));
    tcp::socket socket(executor);
    asio::steady_timer timer(executor, timeout);
    // Suspends until the connection is made or refused, or the timer fires
    // first, which cancels the connect.
    auto outcome = co_await (socket.async_connect(endpoint, use_nothrow_awaitable) ||
                             timer.async_wait(use_nothrow_awaitable));
    last_error = outcome.index() == 0 ? std::get<0>(std::get<0>(outcome)) : asio::error::timed_out;
    if (!last_error) co_return std::tuple{error_code{}, std::move(socket)};
    if (verbose) write_line(con.err, fmt::format("{}: {}", format_endpoint(endpoint), describe(last_error)));
  }
  co_return std::tuple{last_error, tcp::socket(executor)};
}

asio::awaitable<int> run_client(client_options options, console con, typed_line_editor editor) {
  const auto executor = co_await asio::this_coro::executor;
  const std::string host(unbracketed(options.host));  // "[::1]" is ::1
  const std::string target = format_host_port(host, options.port);

  // Suspends while the system's resolver looks the name up (on a thread of
  // Asio's, since getaddrinfo blocks). It yields IPv6 and IPv4 addresses.
  tcp::resolver resolver(executor);
  auto [resolve_error, results] = co_await resolver.async_resolve(
      host, std::to_string(options.port), tcp::resolver::numeric_service, use_nothrow_awaitable);
  if (resolve_error) {
    write_line(con.err, fmt::format("cannot connect to {}: cannot resolve {}: {}", target, host,
                                    describe(resolve_error)));
    co_return 1;
  }
  std::vector<tcp::endpoint> endpoints;
  for (const auto& entry : results) endpoints.push_back(entry.endpoint());

  auto [connect_error, socket] =
      co_await connect_to_first(std::move(endpoints), options.connect_timeout, con, options.verbose);
  if (connect_error == asio::error::timed_out) {
    write_line(con.err, fmt::format("cannot connect to {}: no answer within {}", target,
                                    std::chrono::duration<double>(options.connect_timeout)));
    co_return 1;
  }
  if (connect_error) {
    write_line(con.err, fmt::format("cannot connect to {}: {}", target, describe(connect_error)));
    co_return 1;
  }
  if (con.interactive || options.verbose) {
    error_code ignored;
    write_line(con.err, fmt::format("connected to {}", format_endpoint(socket.remote_endpoint(ignored))));
  }
  co_return co_await converse(std::move(socket), con, options.max_line, std::move(editor));
}

}  // namespace coronet
