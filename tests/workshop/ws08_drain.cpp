// SPDX-License-Identifier: BSL-1.0
// Exercise 08, a graceful drain: when tcp_server is told to stop (SIGTERM or
// Ctrl-C cancel serve()), it stops accepting at once but lets the connected
// clients go on for up to server_options::drain_timeout; whoever is still
// there then is told "server shutting down" and closed. serve() returns as
// soon as the last client has left. The test compiles before the option
// exists and then fails, saying what to add. See docs/workshop/08-drain/README.md.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <sstream>
#include <string>

#include "tcp_server/server.hpp"
#include "time_scale.hpp"
#include "ws_option.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using coronet::error_code;
using coronet::server_options;
using coronet::tcp;

namespace {

constexpr std::string_view readme = "see docs/workshop/08-drain/README.md";
constexpr auto as_value = asio::as_tuple(asio::use_awaitable);

// An echo server on 127.0.0.1:<ephemeral>, run in-process by serve(); stop()
// cancels serve() the way main() does on SIGTERM.
struct draining_server {
  explicit draining_server(std::chrono::milliseconds drain) {
    server_options options;
    options.mode = coronet::server_mode::echo;
    options.port = 0;
    if (!WS_SET_OPTION(options, drain_timeout, drain))
      FAIL(
          "ws08: server_options has no `std::chrono::milliseconds drain_timeout` yet "
          "(src/tcp_server/options.hpp) — "
          << readme);
    auto acceptor = coronet::open_listener(io.get_executor(), options, err);
    REQUIRE(acceptor);
    port = acceptor->local_endpoint().port();
    asio::co_spawn(io, coronet::serve(std::move(*acceptor), options, console),
                   asio::bind_cancellation_slot(signal.slot(), [this](const std::exception_ptr& e) {
                     served = true;
                     if (e) std::rethrow_exception(e);
                   }));
  }

  void stop() { signal.emit(asio::cancellation_type::terminal); }

  // Runs the test's coroutine beside the server until both have ended (or a
  // generous deadline passed).
  void run(asio::awaitable<void> test) {
    asio::co_spawn(io, std::move(test), [this](const std::exception_ptr& e) {
      tested = true;
      if (e) {
        stop();
        std::rethrow_exception(e);
      }
    });
    io.run_for(coronet::testing::hang_deadline(20s));
  }

  asio::io_context io;
  std::ostringstream out, err;
  coronet::console_input input{io.get_executor()};
  coronet::console console{input, out, err, false};
  asio::cancellation_signal signal;
  std::uint16_t port = 0;
  bool served = false;  // serve() has returned
  bool tested = false;
};

asio::awaitable<error_code> connect(tcp::socket& socket, std::uint16_t port) {
  auto [ec] = co_await socket.async_connect({asio::ip::address_v4::loopback(), port}, as_value);
  co_return ec;
}

// The next line with its LF, or what came before the end ("" at a clean end).
asio::awaitable<std::string> read_line(tcp::socket& socket, std::string& buffered) {
  auto [ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffered), '\n', as_value);
  if (ec) n = buffered.size();
  std::string line = buffered.substr(0, n);
  buffered.erase(0, n);
  co_return line;
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(as_value);
}

}  // namespace

TEST_CASE("ws08: while it drains, the server serves its clients, refuses new ones, and ends when they leave",
          "[ws08][workshop]") {
  // A drain far longer than the test: the server must end because its client left.
  draining_server server(std::chrono::minutes(10));
  std::string after_stop;
  std::optional<error_code> newcomer;
  server.run([&]() -> asio::awaitable<void> {
    tcp::socket client(co_await asio::this_coro::executor);
    std::string buffered;
    const auto connect_error = co_await connect(client, server.port);
    REQUIRE_FALSE(connect_error);
    co_await asio::async_write(client, asio::buffer(std::string_view("before\n")), as_value);
    const std::string before = co_await read_line(client, buffered);
    REQUIRE(before == "before\n");

    server.stop();
    // The listener closes once the accept loop has seen the cancellation:
    // a new connection is refused from then on.
    const auto give_up = std::chrono::steady_clock::now() + coronet::testing::hang_deadline(5s);
    do {
      tcp::socket late(co_await asio::this_coro::executor);
      newcomer = co_await connect(late, server.port);
      if (!*newcomer) co_await sleep_for(10ms);
    } while (!*newcomer && std::chrono::steady_clock::now() < give_up);

    co_await asio::async_write(client, asio::buffer(std::string_view("after\n")), as_value);
    after_stop = co_await read_line(client, buffered);
    error_code ignored;
    client.shutdown(tcp::socket::shutdown_send, ignored);
    const std::string rest = co_await read_line(client, buffered);
    CHECK(rest.empty());
  }());
  INFO("the server's stderr:\n" << server.err.str());
  REQUIRE(server.tested);
  if (after_stop != "after\n")
    FAIL("ws08: told to stop, the server answered the connected client's next line with '"
         << after_stop << "' instead of serving it: while it drains, sessions go on — " << readme);
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
  draining_server server(300ms);
  std::string last;
  server.run([&]() -> asio::awaitable<void> {
    tcp::socket client(co_await asio::this_coro::executor);
    std::string buffered;
    const auto connect_error = co_await connect(client, server.port);
    REQUIRE_FALSE(connect_error);
    co_await asio::async_write(client, asio::buffer(std::string_view("hello\n")), as_value);
    const std::string echo = co_await read_line(client, buffered);
    REQUIRE(echo == "hello\n");
    server.stop();
    // This client never leaves: it reads until the server closes it.
    auto [ec, n] = co_await asio::async_read(client, asio::dynamic_buffer(buffered), as_value);
    CHECK((ec == asio::error::eof || ec == asio::error::connection_reset));
    last = buffered;
  }());
  INFO("the server's stderr:\n" << server.err.str());
  REQUIRE(server.tested);
  CHECK(last == "server shutting down\n");
  if (!server.served)
    FAIL("ws08: after the drain, serve() should have closed the client and returned — " << readme);
}
