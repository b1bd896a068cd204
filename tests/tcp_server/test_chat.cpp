// SPDX-License-Identifier: BSL-1.0
// tcp_server --mode chat: clients' lines reach the operator's stdout,
// labelled and terminal-safe; the operator's typed lines reach every client;
// "q" ends one client's session (its own) or all of them (the operator's).
#include <catch2/catch_test_macros.hpp>

#include <array>
#include <initializer_list>
#include <string>
#include <string_view>

#include "support.hpp"

namespace asio = boost::asio;
using namespace coronet::testing;

namespace {

// The operator types `lines`, one after the other.
void type(test_server* server, std::initializer_list<std::string_view> lines) {
  for (const auto line : lines) server->input().push(line);
}

}  // namespace

TEST_CASE("chat shows each client's line on stdout with its address and made terminal-safe") {
  run_with_client(
      options_for(server_mode::chat), [](test_server* server, peer client) -> asio::awaitable<void> {
        const std::string name = client.name();
        co_await client.send("hello there\r\n\x1b]0;owned\x07\x1b[2J\n\n");
        co_await server->expect_output("<" + name + "> \n");
        CHECK(server->output() ==
              "<" + name + "> hello there\n<" + name + "> \\x1b]0;owned\\x07\\x1b[2J\n<" + name + "> \n");
        CHECK(contains(server->errors(), name + " connected\n"));
      });
}

TEST_CASE("chat sends each typed line to every client") {
  run_with_client(options_for(server_mode::chat), [](test_server* server, peer a) -> asio::awaitable<void> {
    auto b = co_await connect_announced(server);
    type(server, {"good evening", ""});
    const std::array<peer*, 2> clients{&a, &b};
    for (peer* client : clients) {
      co_await client->expect_line("good evening\n");
      co_await client->expect_line("\n");
    }
  });
}

TEST_CASE("chat: a client's 'q' ends only its own session") {
  run_with_client(options_for(server_mode::chat),
                  [](test_server* server, peer leaving) -> asio::awaitable<void> {
                    auto staying = co_await connect_to(server->port());
                    const std::string name = leaving.name();
                    co_await leaving.send("bye now\nq\nnever shown\n");
                    co_await leaving.expect_end("");
                    co_await server->expect_errors(name + " disconnected");
                    CHECK_FALSE(contains(server->output(), "never shown"));
                    CHECK_FALSE(contains(server->output(), "> q\n"));
                    co_await staying.send("still talking\n");
                    co_await server->expect_output("> still talking\n");
                  });
}

TEST_CASE("chat: the operator's 'q' sends q to every client and ends them while the server keeps listening") {
  run_with_client(options_for(server_mode::chat), [](test_server* server, peer a) -> asio::awaitable<void> {
    auto b = co_await connect_announced(server);
    type(server, {"last words", "q"});
    const std::array<peer*, 2> clients{&a, &b};
    for (peer* client : clients) co_await client->expect_end("last words\nq\n");
    auto later = co_await connect_announced(server);
    type(server, {"welcome back"});
    co_await later.expect_line("welcome back\n");
  });
}

TEST_CASE("chat: the end of the operator's input is not a quit") {
  run_with_client(options_for(server_mode::chat),
                  [](test_server* server, peer before) -> asio::awaitable<void> {
                    server->input().push_end();
                    // Time for the server to take the end of input (nothing shows that it
                    // has: it must do nothing), then a client connects after it.
                    co_await sleep_for(50ms);
                    auto after = co_await connect_to(server->port());
                    co_await before.send("one\n");
                    co_await after.send("two\n");
                    co_await server->expect_output("> two\n");
                    CHECK(contains(server->output(), "> one\n"));
                  });
}

TEST_CASE("chat: a client that resets in the middle of a line leaves nothing behind") {
  run_with_client(options_for(server_mode::chat),
                  [](test_server* server, peer client) -> asio::awaitable<void> {
                    const std::string name = client.name();
                    co_await client.send("half of a li");
                    client.socket.set_option(asio::socket_base::linger(true, 0));  // close() sends RST
                    client.socket.close();
                    co_await server->expect_errors(name + " disconnected");
                    auto next = co_await connect_to(server->port());
                    co_await next.send("fine\n");
                    co_await server->expect_output("> fine\n");
                    CHECK_FALSE(contains(server->output(), "half"));
                  });
}
