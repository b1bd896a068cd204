// SPDX-License-Identifier: BSL-1.0
// The tcp_client tests' client_test and test servers (client_test.hpp).
#include "tcp_client/client_test.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "coronet/console.hpp"
#include "support.hpp"
#include "tcp_client/client.hpp"
#include "time_scale.hpp"

namespace coronet::testing {

tcp::acceptor listen_on_loopback(asio::io_context& io, const asio::ip::address& address) {
  return {io, tcp::endpoint(address, 0)};
}

tcp::acceptor bind_without_listening(asio::io_context& io, const char* address) {
  const tcp::endpoint endpoint(asio::ip::make_address(address), 0);
  tcp::acceptor acceptor(io, endpoint.protocol());
  acceptor.bind(endpoint);
  return acceptor;
}

client_options options_for(const tcp::acceptor& acceptor) {
  client_options options;
  options.host = acceptor.local_endpoint().address().to_string();
  options.port = acceptor.local_endpoint().port();
  return options;
}

std::optional<int> run_client(asio::io_context& io, client_options options, coronet::console con) {
  std::optional<int> exit_code;
  asio::co_spawn(io, coronet::run_client(std::move(options), con),
                 [&](const std::exception_ptr& e, int code) {
                   rethrow(e);
                   exit_code = code;
                   io.stop();  // servers that would wait for more are not the test's concern
                 });
  io.run_for(hang_deadline(10s));
  return exit_code;
}

client_test::client_test(bool interactive, std::size_t max_line)
    : console(io.get_executor(), interactive, max_line),
      acceptor(listen_on_loopback(io)),
      options(options_for(acceptor)) {}

void client_test::serve(asio::awaitable<void> server) {
  spawn(io, std::move(server));
}

void client_test::type(const std::vector<std::string>& lines) {
  for (const auto& line : lines) console.input.push(line);
}

std::optional<int> client_test::run() {
  return run_client(io, options, console.con);
}

asio::awaitable<void> echo_then_bye(tcp::acceptor acceptor) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  char data[4096];
  while (true) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(data), use_nothrow_awaitable);
    if (ec) break;
    co_await asio::async_write(socket, asio::buffer(data, n), asio::use_awaitable);
  }
  co_await asio::async_write(socket, asio::buffer(std::string_view("bye\n")), asio::use_awaitable);
}

asio::awaitable<void> send_and_wait(tcp::acceptor acceptor, std::string text) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  co_await asio::async_write(socket, asio::buffer(text), asio::use_awaitable);
  char data[4096];
  while (true) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(data), use_nothrow_awaitable);
    if (ec) co_return;
  }
}

asio::awaitable<void> send_and_close(tcp::acceptor acceptor, std::string text) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  co_await asio::async_write(socket, asio::buffer(text), asio::use_awaitable);
}

asio::awaitable<void> record_silently(tcp::acceptor acceptor, std::string* received) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  char data[4096];
  while (true) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(data), use_nothrow_awaitable);
    if (ec) co_return;
    received->append(data, n);
  }
}

}  // namespace coronet::testing
