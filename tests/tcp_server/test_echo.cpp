// SPDX-License-Identifier: BSL-1.0
// tcp_server --mode echo: every line comes back byte for byte, in order, on
// one thread or two; "q" comes back and ends the session. (The limits and
// shutdown in echo mode are in test_every_mode.cpp, with the other modes.)
#include <boost/asio/read.hpp>
#include <catch2/catch_test_macros.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "support.hpp"

namespace asio = boost::asio;
using namespace coronet::testing;
using namespace std::string_literals;

TEST_CASE("echo sends every line back byte for byte") {
  run_with_client(options_for(server_mode::echo), [](test_server*, peer client) -> asio::awaitable<void> {
    // CRLF, a lone CR, NUL, invalid UTF-8, telnet IAC bytes, an escape
    // sequence, an empty line: all data, all returned untouched.
    const std::string lines = "crlf\r\ncr\rinside\nnul\0byte\n\xff\xfe\xc3\n"s +
                              "\xff\xfb\x01\xff\xfd\x03\n\x1b]0;title\x07\x1b[2J\n\n\r\n";
    co_await client.send(lines);
    std::string back;
    while (back.size() < lines.size()) back += co_await client.read_line();
    CHECK(back == lines);
  });
}

TEST_CASE("echo answers many pipelined lines in order") {
  run_with_client(options_for(server_mode::echo), [](test_server*, peer client) -> asio::awaitable<void> {
    std::string lines;
    for (int i = 0; i < 5000; ++i) lines += "line " + std::to_string(i) + "\n";
    co_await client.send(lines);
    std::string back(lines.size(), '\0');
    co_await asio::async_read(client.socket, asio::buffer(back), asio::use_awaitable);
    CHECK(back == lines);
  });
}

TEST_CASE("echo sends 'q' back and then ends the session without echoing what follows") {
  run_with_client(options_for(server_mode::echo), [](test_server*, peer client) -> asio::awaitable<void> {
    co_await client.send("one\nQ\r\nnot echoed\n");
    co_await client.expect_end("one\nQ\r\n");
  });
}

TEST_CASE("echo returns the last unterminated line when the peer half-closes") {
  run_with_client(options_for(server_mode::echo), [](test_server*, peer client) -> asio::awaitable<void> {
    co_await client.send("full\npartial");
    client.socket.shutdown(tcp::socket::shutdown_send);
    co_await client.expect_end("full\npartial");
  });
}

TEST_CASE("echo on two threads serves every connection and every byte") {
  test_server server(options_for(server_mode::echo), 2);
  server.run([](std::uint16_t port) -> asio::awaitable<void> {
    auto clients = co_await connect_clients(port, 20);
    for (int round = 0; round < 20; ++round) {
      for (std::size_t i = 0; i < clients.size(); ++i)
        co_await clients[i].send(std::to_string(i) + "," + std::to_string(round) + "\n");
      for (std::size_t i = 0; i < clients.size(); ++i)
        co_await clients[i].expect_line(std::to_string(i) + "," + std::to_string(round) + "\n");
    }
  }(server.port()));
}
