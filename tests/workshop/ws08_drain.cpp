// SPDX-License-Identifier: BSL-1.0
// Exercise 08, a graceful drain: when tcp_server is told to stop (SIGTERM or
// Ctrl-C cancel serve()), it stops accepting at once but lets the connected
// clients go on for up to server_options::drain_timeout; whoever is still
// there then is told "server shutting down" and closed. serve() returns as
// soon as the last client has left. The test compiles before the option
// exists and then fails, saying what to add. See docs/workshop/08-drain/README.md.
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "ws_option.hpp"
#include "ws_tcp_server.hpp"

namespace {

namespace asio = ws::asio;
using namespace std::chrono_literals;
using coronet::error_code;
using ws::tcp;
using ws::use_nothrow_awaitable;

constexpr std::string_view readme = "see docs/workshop/08-drain/README.md";

// An echo server that drains for `drain` once told to stop (the fixture's
// stop_server(), what main() does on SIGTERM).
coronet::server_options draining_echo(std::chrono::milliseconds drain) {
  coronet::server_options options;
  options.mode = coronet::server_mode::echo;
  if (!WS_SET_OPTION(options, drain_timeout, drain))
    FAIL(
        "ws08: server_options has no `std::chrono::milliseconds drain_timeout` yet "
        "(src/tcp_server/options.hpp) — "
        << readme);
  return options;
}

asio::awaitable<error_code> connect(tcp::socket& socket, std::uint16_t port) {
  auto [ec] = co_await socket.async_connect({asio::ip::address_v4::loopback(), port}, use_nothrow_awaitable);
  co_return ec;
}

asio::awaitable<void> send_bytes(tcp::socket& socket, std::string_view bytes) {
  co_await asio::async_write(socket, asio::buffer(bytes), use_nothrow_awaitable);
}

// A client that connected and had `line` echoed: the server serves it.
asio::awaitable<ws::peer> served_client(std::uint16_t port, const std::string& line) {
  auto client = co_await ws::connect_to(port);
  const std::string sent = line + "\n";
  co_await ws::send(client, sent);
  const ws::reading echo = co_await ws::read_line(client);
  REQUIRE(echo.what == ws::reading::kind::line);
  REQUIRE(echo.text == line);
  co_return client;
}

}  // namespace

TEST_CASE("ws08: while it drains, the server serves its clients, refuses new ones, and ends when they leave",
          "[ws08][workshop]") {
  // A drain far longer than the test: the server must end because its client left.
  ws::server_under_test server(draining_echo(std::chrono::minutes(10)));
  ws::reading after_stop{ws::reading::kind::timed_out, {}};
  std::optional<error_code> newcomer;
  const bool tested = server.run_to_the_end(
      [&]() -> asio::awaitable<void> {
        auto client = co_await served_client(server.port, "before");

        server.stop_server();
        // The listener closes once the accept loop has seen the cancellation:
        // a new connection is refused from then on.
        const auto give_up = std::chrono::steady_clock::now() + coronet::testing::hang_deadline(5s);
        do {
          tcp::socket late(co_await asio::this_coro::executor);
          newcomer = co_await connect(late, server.port);
          if (!*newcomer) co_await ws::sleep_for(10ms);
        } while (!*newcomer && std::chrono::steady_clock::now() < give_up);

        co_await send_bytes(client.socket, "after\n");
        after_stop = co_await ws::read_line(client);
        error_code ignored;
        client.socket.shutdown(tcp::socket::shutdown_send, ignored);
        const ws::reading rest = co_await ws::read_line(client);
        CHECK(rest.what == ws::reading::kind::closed);
        CHECK(rest.text.empty());
      }(),
      20s);
  INFO("the server's stderr:\n" << server.errors());
  REQUIRE(tested);
  if (after_stop.what != ws::reading::kind::line || after_stop.text != "after")
    FAIL("ws08: told to stop, the server answered the connected client's next line with "
         << ws::describe(after_stop) << " instead of serving it: while it drains, sessions go on — "
         << readme);
  REQUIRE(newcomer);
  // Refused; or reset, when its SYN came as the listener closed.
  if (*newcomer != asio::error::connection_refused && *newcomer != asio::error::connection_reset)
    FAIL("ws08: while the server drains, a new connection should be refused, but it got '"
         << (*newcomer ? newcomer->message() : std::string("connected")) << "': close the listener — "
         << readme);
  if (!server.served)
    FAIL(
        "ws08: the last client left, yet serve() had not returned 20 s later (the drain was 10 minutes): it "
        "must end as soon as no session is left — "
        << readme);
}

TEST_CASE("ws08: a client still connected when the drain ends is told 'server shutting down' and closed",
          "[ws08][workshop]") {
  ws::server_under_test server(draining_echo(300ms));
  std::string last;
  const bool tested = server.run_to_the_end(
      [&]() -> asio::awaitable<void> {
        auto client = co_await served_client(server.port, "hello");
        server.stop_server();
        // This client never leaves: it reads until the server closes it.
        auto [ec, n] = co_await asio::async_read(client.socket, asio::dynamic_buffer(client.buffered),
                                                 use_nothrow_awaitable);
        CHECK((ec == asio::error::eof || ec == asio::error::connection_reset));
        last = client.buffered;
      }(),
      20s);
  INFO("the server's stderr:\n" << server.errors());
  REQUIRE(tested);
  CHECK(last == "server shutting down\n");
  if (!server.served)
    FAIL("ws08: after the drain, serve() should have closed the client and returned — " << readme);
}
