// SPDX-License-Identifier: BSL-1.0
// udp_server in-process on loopback with an ephemeral port, against a raw
// test socket: it prints every datagram in the seed's format and echoes it
// whole, over IPv4 and IPv6, with --no-reply and --verbose, and through a
// burst from many senders (test_udp_server_burst.cpp).
#include <catch2/catch_message.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <chrono>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "coronet/protocol.hpp"
#include "support.hpp"
#include "udp/udp_server_exchange.hpp"
#include "udp_server/udp_server.hpp"

namespace asio = boost::asio;
using namespace coronet::testing;
using coronet::udp;

TEST_CASE("udp_server says where it listens, with the real port for --port 0") {
  asio::io_context io;
  std::ostringstream err;
  auto server = open_test_server(io, loopback_server(), err);
  const auto port = server.local_endpoint().port();
  CHECK(port != 0);
  CHECK(err.str() == "listening on 127.0.0.1:" + std::to_string(port) + " (udp)\n");
}

TEST_CASE("udp_server reports an address it cannot bind in one line") {
  asio::io_context io;
  auto taken = bind_loopback(io);
  coronet::udp_server_options options;
  options.port = taken.local_endpoint().port();
  std::ostringstream err;
  CHECK_FALSE(coronet::open_udp_server(io.get_executor(), options, err));
  CHECK(err.str().starts_with("error: cannot listen on 127.0.0.1:" + std::to_string(options.port) +
                              " (udp): "));
  CHECK(lines_of(err.str()).size() == 1);

  options.listen = "not-an-address";
  std::ostringstream err2;
  CHECK_FALSE(coronet::open_udp_server(io.get_executor(), options, err2));
  CHECK(err2.str().find("not an IP address") != std::string::npos);
}

TEST_CASE("udp_server prints every datagram in the seed's format and echoes it whole") {
  const std::string payload = GENERATE(
      std::string{}, std::string("x"), std::string("hello\n"), std::string(coronet::max_udp_payload_v4, 'm'),
      std::string("a\0b\xff\xfe z", 7), std::string("\x1b]0;owned\x07\x1b[2J\x9b"));
  asio::io_context io;
  server_output output;
  auto server = open_test_server(io, loopback_server(), output.err);
  const auto server_endpoint = server.local_endpoint();
  auto client = bind_loopback(io);
  exchanges sent;
  run(io, serve_while(std::move(server), loopback_server(), &output,
                      exchange_each(&client, server_endpoint, {payload}, &sent)));

  REQUIRE(sent.replies.size() == 1);
  REQUIRE(sent.replies[0]);
  CHECK(sent.replies[0] == payload);
  const auto port = client.local_endpoint().port();
  check_printed(output.out.str(), {coronet::format_datagram_line("127.0.0.1", port, payload)}, sent.sends);
  CHECK(output.out.str().starts_with("(127.0.0.1 " + std::to_string(port) + ") said: "));
  for (const char control : {'\x1b', '\x07', '\0'})
    CHECK(output.out.str().find(control) == std::string::npos);
}

TEST_CASE("udp_server over IPv6 echoes the largest payload, 65527 bytes") {
  asio::io_context io;
  coronet::udp_server_options options = loopback_server();
  options.listen = "::1";
  server_output output;
  auto server = coronet::open_udp_server(io.get_executor(), options, output.err);
  if (!server) SKIP("no IPv6 loopback here: " << output.err.str());
  auto socket = std::move(*server);  // NOLINT(bugprone-unchecked-optional-access): SKIP threw if empty
  const auto server_endpoint = socket.local_endpoint();
  udp::socket client(io, udp::endpoint(asio::ip::make_address("::1"), 0));
  const std::string payload(coronet::max_udp_payload_v6, '6');
  exchanges sent;
  run(io, serve_while(std::move(socket), options, &output,
                      exchange_each(&client, server_endpoint, {payload}, &sent)));
  REQUIRE(sent.replies.size() == 1);
  CHECK(sent.replies[0] == payload);
  const auto port = client.local_endpoint().port();
  check_printed(output.out.str(), {coronet::format_datagram_line("::1", port, payload)}, sent.sends);
}

namespace {

// Sends each payload from `client` until the server has printed it (its only
// answer with --no-reply), at most `tries` times, and collects whatever
// comes back within a short while after that; counts the sends.
asio::awaitable<void> send_each_until_printed(udp::socket* client, udp::endpoint server,
                                              std::vector<std::string> payloads, watched_output* printed,
                                              exchanges* result) {
  for (const auto& payload : payloads) {
    const std::string line =
        coronet::format_datagram_line("127.0.0.1", client->local_endpoint().port(), payload);
    int sends = 0;
    bool shown = false;
    while (!shown && sends < tries) {
      co_await client->async_send_to(asio::buffer(payload), server, asio::use_awaitable);
      ++sends;
      shown = co_await printed->wait_for(line, patience);  // woken by the server's print
    }
    result->replies.push_back(co_await receive_within(client, 300ms));
    result->sends.push_back(sends);
  }
}

}  // namespace

TEST_CASE("udp_server --no-reply prints and sends nothing back, like the seed") {
  asio::io_context io;
  server_output output;
  auto server = open_test_server(io, loopback_server(false), output.err);
  const auto server_endpoint = server.local_endpoint();
  auto client = bind_loopback(io);
  exchanges sent;
  run(io, serve_while(std::move(server), loopback_server(false), &output,
                      send_each_until_printed(&client, server_endpoint, {"one", "two"}, &output.out, &sent)));
  CHECK(sent.replies == std::vector<std::optional<std::string>>{std::nullopt, std::nullopt});
  const auto port = client.local_endpoint().port();
  check_printed(output.out.str(),
                {coronet::format_datagram_line("127.0.0.1", port, "one"),
                 coronet::format_datagram_line("127.0.0.1", port, "two")},
                sent.sends);
}

TEST_CASE("udp_server --verbose reports the size and sender of every datagram on stderr") {
  asio::io_context io;
  auto options = loopback_server();
  options.verbose = true;
  server_output output;
  auto server = open_test_server(io, options, output.err);
  const auto server_endpoint = server.local_endpoint();
  auto client = bind_loopback(io);
  exchanges sent;
  run(io, serve_while(std::move(server), options, &output,
                      exchange_each(&client, server_endpoint, {"12345"}, &sent)));
  CHECK(sent.replies == std::vector<std::optional<std::string>>{"12345"});
  CHECK(output.err.str().ends_with(
      "received 5 bytes from 127.0.0.1:" + std::to_string(client.local_endpoint().port()) + "\n"));
}
