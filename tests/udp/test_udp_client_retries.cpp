// SPDX-License-Identifier: BSL-1.0
// udp_client against test servers that drop or hold back echoes: how often
// it sends a line again, what --verbose says of it, and how it tells a late
// echo of an earlier try from the answer it waits for.
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coronet/console.hpp"
#include "support.hpp"
#include "udp/udp_client_exchange.hpp"

namespace asio = boost::asio;
using namespace coronet::testing;

TEST_CASE("udp_client resends exactly --retries times, then gives up on that line") {
  const int dropped = GENERATE(0, 1, 2, 3);
  udp_exchange exchange;
  exchange.options.retries = 2;
  const auto result = exchange.echo({"again"}, dropped);
  if (dropped <= 2) {
    CHECK(result.exit_code == 0);
    CHECK(result.out == "again\n");
    CHECK(result.err.empty());
    CHECK(exchange.received == dropped + 1);
  } else {
    CHECK(result.exit_code == 1);
    CHECK(result.out.empty());
    CHECK(result.err == "no reply from 127.0.0.1:" + exchange.port + " after 3 tries\n");
    CHECK(exchange.received == 3);
  }
}

TEST_CASE("udp_client with --retries 0 tries once and goes on with the next line") {
  udp_exchange exchange;
  exchange.options.retries = 0;
  const auto result = exchange.echo({"lost", "kept"}, 1);
  CHECK(result.exit_code == 1);
  CHECK(result.out == "kept\n");
  CHECK(result.err == "no reply from 127.0.0.1:" + exchange.port + " after 1 try\n");
  CHECK(exchange.received == 2);
}

TEST_CASE("udp_client --verbose says when it sends a line again") {
  udp_exchange exchange;
  exchange.options.retries = 1;
  exchange.options.verbose = true;
  const auto result = exchange.echo({"twice"}, 1);
  CHECK(result.exit_code == 0);
  CHECK(result.out == "twice\n");
  CHECK(result.err.find("no reply within 100 ms, sending again\n") != std::string::npos);
  CHECK(exchange.received == 2);
}

TEST_CASE("udp_client skips a late echo of an earlier line instead of taking it for the current one") {
  udp_exchange exchange;
  exchange.options.retries = 0;
  exchange.options.verbose = true;
  const auto result = exchange.run_against({"first", "second"}, hold_first_echo(std::move(exchange.server)));
  CHECK(result.exit_code == 1);
  CHECK(result.out == "second\n");
  CHECK(result.err.find("after 1 try\n") != std::string::npos);
  CHECK(result.err.find("ignored a late or unexpected reply: first\n") != std::string::npos);
}

namespace {

// A test server, and the operator beside it, for one line typed twice: the
// first echo comes only after the client has given that line up, and the
// operator types the line again once that late echo waits at the client.
// The second echo is held back 60 ms: a client that took the late echo for
// it would show a round trip of about nothing.
asio::awaitable<void> echo_late_then_type_again(udp::socket socket, coronet::console_input* input) {
  std::vector<char> buffer(65536);
  udp::endpoint sender;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  auto [ec, size] = co_await socket.async_receive_from(asio::buffer(buffer), sender, use_nothrow_awaitable);
  if (ec) co_return;
  const std::string line(buffer.data(), size);
  pause.expires_after(200ms);  // the client gives up after 100 ms
  co_await pause.async_wait(use_nothrow_awaitable);
  co_await socket.async_send_to(asio::buffer(line), sender, use_nothrow_awaitable);
  pause.expires_after(50ms);  // the late echo is now queued at the client
  co_await pause.async_wait(use_nothrow_awaitable);
  input->push(line);
  input->push_end();
  auto [again_error, again_size] =
      co_await socket.async_receive_from(asio::buffer(buffer), sender, use_nothrow_awaitable);
  if (again_error) co_return;
  pause.expires_after(60ms);
  co_await pause.async_wait(use_nothrow_awaitable);
  co_await socket.async_send_to(asio::buffer(buffer.data(), again_size), sender, use_nothrow_awaitable);
  co_await stay_silent();
}

}  // namespace

TEST_CASE("udp_client drops a late echo that waits for it, even of the same line typed again") {
  udp_exchange exchange;
  exchange.options.retries = 0;
  exchange.options.verbose = true;
  scripted_console console(exchange.io.get_executor(), true);
  console.input.push("same");
  int exit_code = -1;
  run(exchange.io,
      client_beside(exchange.options, console.con,
                    echo_late_then_type_again(std::move(exchange.server), &console.input), &exit_code));
  CHECK(exit_code == 1);  // the first try went unanswered
  CHECK(console.err.str().find("dropped a late reply: same\n") != std::string::npos);
  const auto lines = lines_of(without_prompts(console.out.str()).first);
  REQUIRE(lines.size() == 1);
  REQUIRE(lines[0].starts_with("RECEIVED: same (rtt "));
  const double rtt_ms = std::stod(lines[0].substr(std::string_view("RECEIVED: same (rtt ").size()));
  CHECK(rtt_ms >= 50.0);
}
