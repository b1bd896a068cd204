// SPDX-License-Identifier: BSL-1.0
// tcp_server --mode room: each client's line goes to every other client as
// "<ADDR> text", with join and leave notices, on one thread or two; an
// overlong line closes its sender only, and the others hear that it left.
#include <catch2/catch_test_macros.hpp>

#include <string>

#include "support.hpp"

namespace asio = boost::asio;
using namespace coronet::testing;

TEST_CASE("room relays each line to every other client with join and leave notices") {
  run_with_client(options_for(server_mode::room), [](test_server* server, peer a) -> asio::awaitable<void> {
    auto b = co_await connect_to(server->port());
    co_await a.expect_line("* " + b.name() + " joined\n");
    auto c = co_await connect_to(server->port());
    co_await a.expect_line("* " + c.name() + " joined\n");
    co_await b.expect_line("* " + c.name() + " joined\n");
    co_await a.send("hi all\n");
    co_await b.expect_line("<" + a.name() + "> hi all\n");
    co_await c.expect_line("<" + a.name() + "> hi all\n");
    co_await b.send("hi a\n");
    co_await a.expect_line("<" + b.name() + "> hi a\n");  // a never got its own line
    co_await c.expect_line("<" + b.name() + "> hi a\n");
    const std::string c_name = c.name();
    co_await c.send("q\n");
    co_await c.expect_end("");
    co_await a.expect_line("* " + c_name + " left\n");
    co_await b.expect_line("* " + c_name + " left\n");
  });
}

TEST_CASE("room on two threads relays every line") {
  run_with_client(options_for(server_mode::room), 2,
                  [](test_server* server, peer a) -> asio::awaitable<void> {
                    auto b = co_await connect_to(server->port());
                    co_await a.expect_line("* " + b.name() + " joined\n");
                    for (int i = 0; i < 200; ++i) co_await a.send(std::to_string(i) + "\n");
                    for (int i = 0; i < 200; ++i)
                      co_await b.expect_line("<" + a.name() + "> " + std::to_string(i) + "\n");
                  });
}

TEST_CASE("room: a line of exactly max-line is relayed; one byte more closes only its sender") {
  server_options options = options_for(server_mode::room);
  options.max_line = 100;
  run_with_client(options, [](test_server* server, peer sender) -> asio::awaitable<void> {
    auto a = co_await connect_to(server->port());
    auto b = co_await connect_to(server->port());
    co_await sender.expect_line("* " + a.name() + " joined\n");
    co_await sender.expect_line("* " + b.name() + " joined\n");
    co_await a.expect_line("* " + b.name() + " joined\n");
    const std::string sender_name = sender.name();
    const std::string at_limit(100, 'a');
    co_await sender.send(at_limit + "\n");
    co_await a.expect_line("<" + sender_name + "> " + at_limit + "\n");
    co_await b.expect_line("<" + sender_name + "> " + at_limit + "\n");
    co_await sender.send(std::string(101, 'b') + "\n");
    co_await sender.expect_end("error: line longer than 100 bytes\n");
    co_await a.expect_line("* " + sender_name + " left\n");
    co_await b.expect_line("* " + sender_name + " left\n");
    co_await a.send("unaffected\n");
    co_await b.expect_line("<" + a.name() + "> unaffected\n");
  });
}
