// SPDX-License-Identifier: BSL-1.0
// Shutdown (what main does on SIGINT or SIGTERM: it cancels serve()): every
// client, in every mode, hears "server shutting down" and is closed within a
// second, an unfinished line holds nothing up, and the server stops listening.
#include <boost/asio/this_coro.hpp>
#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <string>

#include "support.hpp"

namespace asio = boost::asio;
using namespace coronet::testing;

TEST_CASE("every mode: shutdown tells every client 'server shutting down' within a second") {
  test_server server(options_for(any_mode()));
  server.run(
      [](test_server* server) -> asio::awaitable<void> {
        auto a = co_await connect_to(server->port());
        auto b = co_await connect_to(server->port());
        co_await expect_served(server, &a, &b, "ready");
        co_await b.send("half a li");  // an unfinished line does not hold shutdown up
        co_await sleep_for(50ms);      // for it to arrive: the server shows nothing when it has
        const auto start = std::chrono::steady_clock::now();
        server->stop_server();
        co_await expect_end_in_mode(server, &a, "server shutting down\n");
        co_await expect_end_in_mode(server, &b, "server shutting down\n");
        CHECK(std::chrono::steady_clock::now() - start < 1s);
        // No longer listening.
        tcp::socket late(co_await asio::this_coro::executor);
        auto [ec] = co_await late.async_connect({asio::ip::address_v4::loopback(), server->port()},
                                                use_nothrow_awaitable);
        CHECK(ec);
      }(&server),
      false);
}

TEST_CASE("chat shutdown reaches every client") {
  test_server server(options_for(server_mode::chat));
  server.run(
      [](test_server* server) -> asio::awaitable<void> {
        auto a = co_await connect_to(server->port());
        co_await server->expect_errors(a.name() + " connected");
        server->stop_server();
        co_await a.expect_end("server shutting down\n");
      }(&server),
      false);
}
