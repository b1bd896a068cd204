// SPDX-License-Identifier: BSL-1.0
// --max-connections: exactly that many are served at once; one more gets
// "error: server full" (and, with --verbose, the operator hears of it) while
// the admitted go on; a place that frees is given again.
#include <catch2/catch_test_macros.hpp>

#include <string>
#include <vector>

#include "support.hpp"

namespace asio = boost::asio;
using namespace coronet::testing;

TEST_CASE("every mode: past max-connections a client gets 'error: server full'; the others go on") {
  server_options options = options_for(any_mode());
  options.max_connections = 2;
  run_with_two_clients(options, [](test_server* server, peer a, peer b) -> asio::awaitable<void> {
    co_await expect_served(server, &b, &a, "admitted");  // both are in by now
    auto c = co_await connect_to(server->port());
    co_await c.expect_end("error: server full\n");
    co_await expect_served(server, &a, &b, "unaffected");
  });
}

TEST_CASE("past max-connections a client gets 'error: server full' and a freed place is given again") {
  server_options options = options_for(server_mode::echo);
  options.max_connections = 2;
  options.verbose = true;  // "disconnected" says when a place is free
  run_with_client(options, [](test_server* server, peer first) -> asio::awaitable<void> {
    auto second = co_await connect_to(server->port());
    co_await expect_echo(&second, "hi\n");  // both admitted by now
    auto third = co_await connect_to(server->port());
    co_await third.expect_end("error: server full\n");
    const std::string first_name = first.name();
    co_await first.send("q\n");
    co_await first.expect_end("q\n");
    // The first one's place frees once its session has ended, which the
    // server says after it has let go of the place.
    co_await server->expect_errors(first_name + " disconnected");
    auto fourth = co_await connect_to(server->port());
    co_await expect_echo(&fourth, "again\n");
    co_await expect_echo(&second, "unaffected\n");
  });
}

TEST_CASE("exactly max-connections clients are all admitted and served at once") {
  server_options options = options_for(server_mode::echo);
  options.max_connections = 3;
  test_server server(options);
  server.run([](test_server* server) -> asio::awaitable<void> {
    auto clients = co_await connect_clients(server->port(), 3);
    for (int round = 0; round < 3; ++round) {
      for (auto& client : clients) co_await client.send(client.name() + " " + std::to_string(round) + "\n");
      for (auto& client : clients)
        co_await client.expect_line(client.name() + " " + std::to_string(round) + "\n");
    }
    CHECK_FALSE(contains(server->errors(), "server full"));
  }(&server));
}

TEST_CASE("one client past max-connections gets 'error: server full' and the admitted ones go on") {
  server_options options = options_for(server_mode::echo);
  options.max_connections = 3;
  options.verbose = true;  // the operator hears who was turned away
  test_server server(options);
  server.run([](test_server* server) -> asio::awaitable<void> {
    std::vector<peer> clients;
    for (int i = 0; i < 3; ++i) {
      clients.push_back(co_await connect_to(server->port()));
      co_await expect_echo(&clients.back(), "in\n");  // admitted before the next one connects
    }
    auto one_too_many = co_await connect_to(server->port());
    const std::string turned_away = one_too_many.name();
    co_await one_too_many.expect_end("error: server full\n");
    co_await server->expect_errors(turned_away + " turned away: server full");
    for (auto& client : clients) co_await expect_echo(&client, "unaffected\n");
  }(&server));
}
