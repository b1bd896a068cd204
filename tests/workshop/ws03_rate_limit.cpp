// SPDX-License-Identifier: BSL-1.0
// Exercise 03 (docs/workshop/03-rate-limit/README.md): a per-client rate
// limit in chat and room mode. server_options::rate_limit (and the
// command line's --rate-limit N) is how many lines a second one client may
// send; 0, the default, is no limit. A client may send up to that many at
// once; past them the server takes its lines at that rate, holding it back
// (reading no more from it) in between. No line is lost or reordered, and
// the other clients are served meanwhile.
#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "ws_option.hpp"
#include "ws_tcp_server.hpp"

namespace {

using std::chrono::steady_clock;
using ws::peer;
using ws::reading;

const char* const readme = "see docs/workshop/03-rate-limit/README.md";

// Room mode with a limit of `lines_a_second`, once the learner has added
// the option; until then the test fails, saying so.
coronet::server_options room_limited_to(std::size_t lines_a_second) {
  auto options = ws::room();
  if (!WS_SET_OPTION(options, rate_limit, lines_a_second))
    FAIL(
        "ws03: server_options has no member rate_limit yet (lines a second one client may send, "
        "0: no limit) - "
        << readme);
  return options;
}

std::string numbered(const std::string& prefix, int count) {
  std::string lines;
  for (int i = 1; i <= count; ++i) lines += prefix + std::to_string(i) + "\n";
  return lines;
}

}  // namespace

TEST_CASE("ws03: a client over its limit is slowed to it, and none of its lines is lost",
          "[ws03][workshop]") {
  constexpr std::size_t limit = 20;
  constexpr int sent = 60;  // 20 at once, then 40 at 20 a second: 2 s at the least
  ws::server_under_test server(room_limited_to(limit));
  server.run([&]() -> ws::asio::awaitable<void> {
    auto peers = co_await ws::join_room(server.port, 2);
    peer& fast = peers[0];
    peer& listener = peers[1];
    const auto start = steady_clock::now();
    co_await ws::send(fast, numbered("line ", sent));
    for (int i = 1; i <= sent; ++i) {
      const std::string expected = "<" + fast.name() + "> line " + std::to_string(i);
      const reading got = co_await ws::read_message(listener, ws::line_deadline() * 2);
      if (got.what != reading::kind::line || got.text != expected)
        FAIL("ws03: a client sent " << sent << " lines at a limit of " << limit << " a second; line " << i
                                    << " should be '" << expected << "' but was " << ws::describe(got)
                                    << " - " << readme);
    }
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - start);
    // A lower bound only: a loaded machine makes it slower, never faster.
    if (took < std::chrono::milliseconds(1500))
      FAIL("ws03: " << sent << " lines at a limit of " << limit << " a second (" << limit
                    << " at once, the rest at " << limit
                    << " a second) took at least 2 s, but they all arrived in " << took.count() << " ms - "
                    << readme);
  }());
}

TEST_CASE("ws03: while one client is held back, the others are served", "[ws03][workshop]") {
  constexpr std::size_t limit = 1;
  constexpr int sent = 5;  // one at once, then one a second: the last 4 s later
  ws::server_under_test server(room_limited_to(limit));
  server.run([&]() -> ws::asio::awaitable<void> {
    auto peers = co_await ws::join_room(server.port, 3);
    peer& fast = peers[0];
    peer& other = peers[1];
    peer& listener = peers[2];
    co_await ws::send(fast, numbered("a", sent));
    const std::string first = "<" + fast.name() + "> a1";
    const std::string last = "<" + fast.name() + "> a" + std::to_string(sent);
    const std::string others_line = "<" + other.name() + "> b1";
    std::vector<std::string> before;
    const bool first_seen = co_await ws::read_until_line(listener, first, &before);
    if (!first_seen) FAIL("ws03: the held-back client's first line never arrived - " << readme);
    // `other` is within its own limit: its line goes before the rest of
    // what `fast` sent, which waits its turn.
    co_await ws::send(other, "b1\n");
    std::vector<std::string> between;
    const bool seen = co_await ws::read_until_line(listener, others_line, &between, ws::line_deadline() * 2);
    bool last_came_first = false;
    for (const auto& line : between) last_came_first = last_came_first || line == last;
    if (!seen || last_came_first)
      FAIL("ws03: one client sent " << sent << " lines at a limit of " << limit
                                    << " a second; once its first had arrived another client sent one line, "
                                       "which should arrive long before the first client's last, but "
                                    << (seen ? "it came after it" : "it never came")
                                    << ": everyone waited while one client was held back - " << readme);
    // The held-back client's lines all arrive, in order, after all.
    for (int i = 2; i <= sent; ++i) {
      const std::string expected = "<" + fast.name() + "> a" + std::to_string(i);
      bool found = false;
      for (const auto& line : between) found = found || line == expected;
      if (found) continue;
      const bool arrived = co_await ws::read_until_line(listener, expected, nullptr, ws::line_deadline() * 2);
      if (!arrived) FAIL("ws03: the held-back client's line '" << expected << "' never arrived - " << readme);
    }
  }());
}

TEST_CASE("ws03: a client held back does not hold up the server's shutdown", "[ws03][workshop]") {
  constexpr std::size_t limit = 1;
  constexpr int sent = 30;  // half a minute's worth
  ws::server_under_test server(room_limited_to(limit));
  // The shutdown ends the wait: the run is over in seconds, not in 30.
  INFO(
      "ws03: the server was shut down while a client was held back: the shutdown should end that wait at "
      "once, and serve() return - "
      << readme);
  server.run(
      [&]() -> ws::asio::awaitable<void> {
        auto peers = co_await ws::join_room(server.port, 2);
        peer& fast = peers[0];
        peer& listener = peers[1];
        co_await ws::send(fast, numbered("a", sent));
        const bool first_seen = co_await ws::read_until_line(listener, "<" + fast.name() + "> a1", nullptr);
        if (!first_seen) FAIL("ws03: the held-back client's first line never arrived - " << readme);
        // The test ends here; the server shuts down while `fast` is held back.
      }(),
      std::chrono::seconds(20));
}
