// SPDX-License-Identifier: BSL-1.0
// The udp_server tests' exchange (udp_server_exchange.hpp).
#include "udp/udp_server_exchange.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch_message.hpp>
#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "support.hpp"
#include "udp_server/udp_server.hpp"

namespace coronet::testing {

using namespace asio::experimental::awaitable_operators;

asio::awaitable<std::optional<std::string>> receive_within(udp::socket* socket,
                                                           std::chrono::milliseconds patience) {
  std::string buffer(65536, '\0');
  asio::steady_timer timer(socket->get_executor(), patience);
  auto first = co_await (socket->async_receive(asio::buffer(buffer), use_nothrow_awaitable) ||
                         timer.async_wait(use_nothrow_awaitable));
  if (first.index() == 1) co_return std::nullopt;
  auto [ec, size] = std::get<0>(first);
  REQUIRE_FALSE(ec);
  buffer.resize(size);
  co_return buffer;
}

udp::socket open_test_server(asio::io_context& io, const coronet::udp_server_options& options,
                             std::ostream& err) {
  auto socket = coronet::open_udp_server(io.get_executor(), options, err);
  REQUIRE(socket);
  return std::move(*socket);  // NOLINT(bugprone-unchecked-optional-access): REQUIRE throws when empty
}

coronet::udp_server_options loopback_server(bool reply) {
  coronet::udp_server_options options;
  options.port = 0;
  options.reply = reply;
  return options;
}

asio::awaitable<void> exchange_each(udp::socket* client, udp::endpoint server,
                                    std::vector<std::string> payloads, exchanges* result) {
  for (const auto& payload : payloads) {
    std::optional<std::string> reply;
    int sends = 0;
    while (!reply && sends < tries) {
      co_await client->async_send_to(asio::buffer(payload), server, asio::use_awaitable);
      ++sends;
      reply = co_await receive_within(client, patience);
      // Skips a late echo of an earlier datagram: only this one's counts.
      while (reply && *reply != payload) reply = co_await receive_within(client, patience);
    }
    result->replies.push_back(std::move(reply));
    result->sends.push_back(sends);
  }
}

asio::awaitable<void> serve_while(udp::socket server, coronet::udp_server_options options,
                                  server_output* output, asio::awaitable<void> body) {
  co_await (coronet::serve_datagrams(std::move(server), std::move(options), &output->out, &output->err) ||
            std::move(body));
}

void check_printed(const std::string& printed, const std::vector<std::string>& expected,
                   const std::vector<int>& sends) {
  INFO("printed:\n" << printed);
  const auto lines = lines_of(printed);
  std::size_t at = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    int copies = 0;
    for (; at < lines.size() && lines[at] == expected[i]; ++at) ++copies;
    CHECK(copies >= 1);
    CHECK(copies <= sends[i]);
  }
  CHECK(at == lines.size());
}

}  // namespace coronet::testing
