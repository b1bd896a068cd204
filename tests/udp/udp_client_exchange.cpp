// SPDX-License-Identifier: BSL-1.0
// The udp_client tests' servers and their exchange (udp_client_exchange.hpp).
#include "udp/udp_client_exchange.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "coronet/awaitable.hpp"
#include "coronet/console.hpp"
#include "support.hpp"
#include "udp_client/udp_client.hpp"

namespace coronet::testing {

using namespace asio::experimental::awaitable_operators;

std::pair<std::string, std::size_t> without_prompts(std::string text) {
  std::size_t prompts = 0;
  for (auto at = text.find(send_prompt); at != std::string::npos; at = text.find(send_prompt)) {
    text.erase(at, send_prompt.size());
    ++prompts;
  }
  return {text, prompts};
}

bool is_subsequence(const std::vector<std::string>& part, const std::vector<std::string>& whole) {
  auto at = whole.begin();
  for (const auto& item : part) {
    at = std::find(at, whole.end(), item);
    if (at == whole.end()) return false;
    ++at;
  }
  return true;
}

asio::awaitable<void> echo_after_dropping(udp::socket socket, int drop, int* received) {
  std::vector<char> buffer(65536);
  udp::endpoint sender;
  while (true) {
    auto [ec, size] = co_await socket.async_receive_from(asio::buffer(buffer), sender, use_nothrow_awaitable);
    if (ec) co_return;  // cancelled: the client is done
    if (++*received <= drop) continue;
    co_await socket.async_send_to(asio::buffer(buffer.data(), size), sender, use_nothrow_awaitable);
  }
}

asio::awaitable<void> hold_first_echo(udp::socket socket) {
  std::vector<char> buffer(65536);
  udp::endpoint sender;
  std::string held;
  for (int received = 1;; ++received) {
    auto [ec, size] = co_await socket.async_receive_from(asio::buffer(buffer), sender, use_nothrow_awaitable);
    if (ec) co_return;
    const std::string payload(buffer.data(), size);
    if (received == 1) {
      held = payload;
      continue;
    }
    if (received == 2) co_await socket.async_send_to(asio::buffer(held), sender, use_nothrow_awaitable);
    co_await socket.async_send_to(asio::buffer(payload), sender, use_nothrow_awaitable);
  }
}

asio::awaitable<void> stay_silent() {
  asio::steady_timer forever(co_await asio::this_coro::executor, 1h);
  co_await forever.async_wait(use_nothrow_awaitable);
}

std::vector<std::string> queued_datagrams(udp::socket& socket) {
  socket.non_blocking(true);
  std::vector<std::string> datagrams;
  std::string buffer(65536, '\0');
  error_code ec;
  while (true) {
    const std::size_t size = socket.receive(asio::buffer(buffer), 0, ec);
    if (ec) return datagrams;  // would_block: nothing more
    datagrams.push_back(buffer.substr(0, size));
  }
}

asio::awaitable<void> client_beside(udp_client_options options, console con, asio::awaitable<void> server,
                                    int* exit_code) {
  auto first = co_await (run_udp_client(std::move(options), con) || std::move(server));
  REQUIRE(first.index() == 0);
  *exit_code = std::get<0>(first);
}

udp_exchange::udp_exchange() : server(bind_loopback(io)) {
  port = std::to_string(server.local_endpoint().port());
  options.host = "127.0.0.1";
  options.port = server.local_endpoint().port();
  options.timeout = 100ms;
}

client_result udp_exchange::run_against(const std::vector<std::string>& lines,
                                        asio::awaitable<void> test_server, bool interactive, bool end) {
  scripted_console console(io.get_executor(), interactive);
  for (const auto& line : lines) console.input.push(line);
  if (end) console.input.push_end();
  client_result result;
  run(io, client_beside(options, console.con, std::move(test_server), &result.exit_code));
  result.out = console.out.str();
  result.err = console.err.str();
  return result;
}

client_result udp_exchange::echo(const std::vector<std::string>& lines, int drop, bool interactive,
                                 bool end) {
  return run_against(lines, echo_after_dropping(std::move(server), drop, &received), interactive, end);
}

}  // namespace coronet::testing
