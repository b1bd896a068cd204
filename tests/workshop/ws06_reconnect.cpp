// SPDX-License-Identifier: BSL-1.0
// Exercise 06, tcp_client tries again with exponential back-off when the
// server is not there: client_options gains `reconnects` (how many more
// attempts), `reconnect_delay` (the first wait, doubled after each failure)
// and `max_reconnect_delay` (where the doubling stops). The test compiles
// before they exist and then fails, saying what to add. See
// docs/workshop/06-reconnect/README.md.
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "coronet/awaitable.hpp"
#include "tcp_client/client.hpp"
#include "time_scale.hpp"
#include "ws_option.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Catch::Matchers::ContainsSubstring;
using coronet::client_options;
using coronet::tcp;

namespace {

constexpr std::string_view readme = "see docs/workshop/06-reconnect/README.md";

void require_reconnect_options(client_options& options, int reconnects, std::chrono::milliseconds first,
                               std::chrono::milliseconds longest) {
  const bool added = WS_SET_OPTION(options, reconnects, reconnects) &&
                     WS_SET_OPTION(options, reconnect_delay, first) &&
                     WS_SET_OPTION(options, max_reconnect_delay, longest);
  if (!added)
    FAIL(
        "ws06: client_options has no `int reconnects`, `std::chrono::milliseconds reconnect_delay` and "
        "`std::chrono::milliseconds max_reconnect_delay` yet (src/tcp_client/client.hpp) — "
        << readme);
}

// Bound, not listening: a connect there is refused, until listen().
tcp::acceptor bound_not_listening(asio::io_context& io) {
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  tcp::acceptor acceptor(io, endpoint.protocol());
  acceptor.bind(endpoint);
  return acceptor;
}

client_options options_for(const tcp::acceptor& acceptor) {
  client_options options;
  options.host = "127.0.0.1";
  options.port = acceptor.local_endpoint().port();
  return options;
}

struct scripted_console {
  explicit scripted_console(asio::io_context& io) : input(io.get_executor()), con{input, out, err, false} {}
  std::ostringstream out, err;
  coronet::console_input input;
  coronet::console con;
};

std::size_t count(const std::string& text, std::string_view part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(coronet::use_nothrow_awaitable);
}

// Suspends until the client has written `part` on stderr; false past a generous deadline.
asio::awaitable<bool> until_said(const std::ostringstream& err, std::string part) {
  const auto give_up = std::chrono::steady_clock::now() + coronet::testing::hang_deadline(10s);
  while (err.str().find(part) == std::string::npos) {
    if (std::chrono::steady_clock::now() > give_up) co_return false;
    co_await sleep_for(5ms);
  }
  co_return true;
}

// The server that comes up late: once the client has been refused twice it
// starts listening, echoes what comes until the client half-closes, says
// "bye" and closes.
asio::awaitable<void> come_up_late(tcp::acceptor& acceptor, const std::ostringstream& err, bool& listened) {
  if (!co_await until_said(err, "(2 of ")) co_return;
  acceptor.listen();
  listened = true;
  auto [accept_error, socket] = co_await acceptor.async_accept(coronet::use_nothrow_awaitable);
  if (accept_error) co_return;
  char data[4096];
  while (true) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(data), coronet::use_nothrow_awaitable);
    if (ec) break;
    co_await asio::async_write(socket, asio::buffer(data, n), coronet::use_nothrow_awaitable);
  }
  co_await asio::async_write(socket, asio::buffer(std::string_view("bye\n")), coronet::use_nothrow_awaitable);
}

}  // namespace

TEST_CASE("ws06: a server that comes up late is reached by trying again", "[ws06][workshop]") {
  asio::io_context io;
  auto acceptor = bound_not_listening(io);
  auto options = options_for(acceptor);
  require_reconnect_options(options, 20, 50ms, 400ms);
  scripted_console console(io);
  console.input.push("hello");
  console.input.push_end();
  std::optional<int> exit_code;
  bool listened = false;
  asio::co_spawn(io, come_up_late(acceptor, console.err, listened), [](const std::exception_ptr& e) {
    if (e) std::rethrow_exception(e);
  });
  asio::co_spawn(io, coronet::run_client(options, console.con), [&](const std::exception_ptr& e, int code) {
    if (e) std::rethrow_exception(e);
    exit_code = code;
    io.stop();
  });
  io.run_for(coronet::testing::hang_deadline(20s));
  INFO("the client's stderr:\n" << console.err.str());
  if (!listened)
    FAIL("ws06: the client never said 'trying again in ... (2 of 20)' on stderr after being refused — "
         << readme);
  REQUIRE(exit_code);
  CHECK(*exit_code == 0);
  CHECK(console.out.str() == "hello\nbye\n");
  CHECK_THAT(console.err.str(), ContainsSubstring("connection refused; trying again in 50 ms (1 of 20)"));
  CHECK_THAT(console.err.str(), ContainsSubstring("connection refused; trying again in 100 ms (2 of 20)"));
}

TEST_CASE("ws06: the wait doubles up to its limit, and the client gives up after the last attempt",
          "[ws06][workshop]") {
  asio::io_context io;
  auto acceptor = bound_not_listening(io);
  auto options = options_for(acceptor);
  require_reconnect_options(options, 4, 100ms, 300ms);
  scripted_console console(io);
  console.input.push_end();
  std::optional<int> exit_code;
  asio::co_spawn(io, coronet::run_client(options, console.con), [&](const std::exception_ptr& e, int code) {
    if (e) std::rethrow_exception(e);
    exit_code = code;
  });
  io.run_for(coronet::testing::hang_deadline(20s));
  const std::string err = console.err.str();
  INFO("the client's stderr:\n" << err);
  REQUIRE(exit_code);
  CHECK(*exit_code == 1);
  const std::vector<std::string> waits{"trying again in 100 ms (1 of 4)", "trying again in 200 ms (2 of 4)",
                                       "trying again in 300 ms (3 of 4)", "trying again in 300 ms (4 of 4)"};
  std::size_t from = 0;
  for (const auto& wait : waits) {
    const auto at = err.find(wait, from);
    if (at == std::string::npos)
      FAIL("ws06: expected '" << wait << "' (in this order: 100, 200, 300, 300 ms) — " << readme);
    from = at + wait.size();
  }
  CHECK(count(err, "trying again") == waits.size());
  const std::string last =
      "cannot connect to 127.0.0.1:" + std::to_string(options.port) + ": connection refused\n";
  CHECK(err.ends_with(last));
}

TEST_CASE("ws06: cancelled while it waits to try again, the client ends at once and quietly",
          "[ws06][workshop]") {
  asio::io_context io;
  auto acceptor = bound_not_listening(io);
  auto options = options_for(acceptor);
  require_reconnect_options(options, 5, std::chrono::hours(1), std::chrono::hours(1));
  scripted_console console(io);
  console.input.push_end();
  asio::cancellation_signal interrupt;  // what main's Ctrl-C or SIGTERM does
  bool ended = false;
  std::string escaped;
  asio::co_spawn(io, coronet::run_client(options, console.con),
                 asio::bind_cancellation_slot(interrupt.slot(), [&](const std::exception_ptr& e, int) {
                   ended = true;
                   try {
                     if (e) std::rethrow_exception(e);
                   } catch (const std::exception& what) {
                     escaped = what.what();
                   }
                 }));
  bool waiting = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        waiting = co_await until_said(console.err, "(1 of 5)");
        interrupt.emit(asio::cancellation_type::terminal);
      },
      [](const std::exception_ptr& e) {
        if (e) std::rethrow_exception(e);
      });
  io.run_for(coronet::testing::hang_deadline(20s));
  INFO("the client's stderr:\n" << console.err.str());
  REQUIRE(waiting);
  if (!ended)
    FAIL("ws06: cancelled during its hour-long wait, the client was still running 20 s later — " << readme);
  if (!escaped.empty())
    FAIL("ws06: cancelled during its wait, the client ended with an exception ('"
         << escaped << "') instead of returning its exit code — " << readme);
  CHECK(count(console.err.str(), "trying again") == 1);
}
