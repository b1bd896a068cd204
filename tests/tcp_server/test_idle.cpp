// SPDX-License-Identifier: BSL-1.0
// --idle-timeout: it counts from the last complete line, so a silent client
// and one that trickles bytes but never ends a line are both closed with
// "error: idle timeout", while active ones go on, in every mode.
#include <boost/asio/write.hpp>
#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <string>

#include "support.hpp"

namespace asio = boost::asio;
using namespace coronet::testing;

TEST_CASE("every mode: a silent connection gets 'error: idle timeout'; active ones go on") {
  server_options options = options_for(any_mode());
  options.idle_timeout = 300ms;
  run_with_client(options, [](test_server* server, peer idle) -> asio::awaitable<void> {
    auto trickling = co_await connect_to(server->port());  // bytes, but never a whole line
    auto a = co_await connect_to(server->port());
    auto b = co_await connect_to(server->port());
    const auto start = std::chrono::steady_clock::now();
    bool trickle_refused = false;
    for (int i = 0; i < 6; ++i) {  // 600 ms: two idle timeouts
      co_await expect_served(server, &a, &b, "tick " + std::to_string(i));
      co_await expect_served(server, &b, &a, "tock " + std::to_string(i));
      if (!trickle_refused) {  // it fails once the server has closed it
        auto [ec, n] =
            co_await asio::async_write(trickling.socket, asio::buffer("x", 1), use_nothrow_awaitable);
        trickle_refused = ec.failed();
      }
      co_await sleep_for(100ms);
    }
    co_await expect_end_in_mode(server, &idle, "error: idle timeout\n");
    co_await expect_end_in_mode(server, &trickling, "error: idle timeout\n");
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    co_await expect_served(server, &a, &b, "still served");
  });
}

namespace {

// `times` times: waits `pause`, sends `line` and reads its echo back.
asio::awaitable<void> echo_after_pauses(peer* p, int times, std::chrono::milliseconds pause,
                                        std::string line) {
  for (int i = 0; i < times; ++i) {
    co_await sleep_for(pause);
    co_await expect_echo(p, line);
  }
}

}  // namespace

// These two keep a margin of a quarter of the timeout on either side, enough
// for a loaded machine or valgrind.
TEST_CASE("a client sending a line just before each idle timeout stays connected through several") {
  server_options options = options_for(server_mode::echo);
  options.idle_timeout = 400ms;
  run_with_client(options, [](test_server*, peer client) -> asio::awaitable<void> {
    co_await echo_after_pauses(&client, 4, 300ms, "just in time\n");  // 1.2 s in all: three idle timeouts
  });
}

TEST_CASE("a client silent just past the idle timeout gets 'error: idle timeout'; an active one goes on") {
  server_options options = options_for(server_mode::echo);
  options.idle_timeout = 400ms;
  run_with_client(options, [](test_server* server, peer late) -> asio::awaitable<void> {
    auto active = co_await connect_to(server->port());
    co_await expect_echo(&late, "one line\n");
    co_await echo_after_pauses(&active, 2, 250ms, "tick\n");  // 500 ms of silence from `late`
    co_await late.expect_end("error: idle timeout\n");
    co_await expect_echo(&active, "still served\n");
  });
}
