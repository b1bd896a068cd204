// SPDX-License-Identifier: BSL-1.0
// Exercise 05, udp_client keeps a window of N datagrams in flight:
// udp_client_options gains `window`, the most lines sent and not yet
// answered (1: wait for each echo, as now). Test servers here hold their
// echoes back until N datagrams have come, answer out of order, or lose one.
// The test compiles before the option exists and then fails, saying what to
// add. See docs/workshop/05-udp-window/README.md.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "coronet/awaitable.hpp"
#include "time_scale.hpp"
#include "udp_client/udp_client.hpp"
#include "ws_option.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using coronet::udp;
using coronet::udp_client_options;
using coronet::use_nothrow_awaitable;

namespace {

constexpr std::string_view readme = "see docs/workshop/05-udp-window/README.md";

// What a test server saw: every datagram in the order it came.
struct server_log {
  std::vector<std::string> received;
  std::size_t most_held = 0;  // the most datagrams it held unanswered at once
  std::size_t answered = 0;   // datagrams it has echoed
};

enum class answer { in_order, reversed };

// Holds the datagrams that come until `window` of them wait, then echoes
// them all (in order or reversed); ends once `total` have been answered.
asio::awaitable<void> answer_by_windows(udp::socket socket, std::size_t window, std::size_t total, answer how,
                                        server_log& log) {
  std::vector<std::string> held;
  std::string buffer(65536, '\0');
  std::size_t answered = 0;
  udp::endpoint client;
  while (answered < total) {
    auto [ec, n] = co_await socket.async_receive_from(asio::buffer(buffer), client, use_nothrow_awaitable);
    if (ec) co_return;
    log.received.emplace_back(buffer.data(), n);
    held.push_back(log.received.back());
    log.most_held = std::max(log.most_held, held.size());
    if (held.size() < window && answered + held.size() < total) continue;
    if (how == answer::reversed) std::reverse(held.begin(), held.end());
    for (const auto& datagram : held)
      co_await socket.async_send_to(asio::buffer(datagram), client, use_nothrow_awaitable);
    answered += held.size();
    log.answered = answered;
    held.clear();
  }
}

// Echoes every datagram at once, except the first copy of `lost`, which it
// drops as a network would; ends once every line of `total` has been answered.
asio::awaitable<void> lose_one(udp::socket socket, std::string lost, std::size_t total, server_log& log) {
  std::string buffer(65536, '\0');
  std::map<std::string, int> copies;
  udp::endpoint client;
  while (copies.size() < total || copies[lost] < 2) {
    auto [ec, n] = co_await socket.async_receive_from(asio::buffer(buffer), client, use_nothrow_awaitable);
    if (ec) co_return;
    const std::string datagram(buffer.data(), n);
    log.received.push_back(datagram);
    if (++copies[datagram] == 1 && datagram == lost) continue;
    co_await socket.async_send_to(asio::buffer(datagram), client, use_nothrow_awaitable);
  }
}

struct client_run {
  std::optional<int> exit_code;
  std::string out, err;
};

// Runs udp_client against `server` with `lines` typed, window `window`,
// until both end or a generous deadline passes.
template <typename Server>
client_run run_with_window(std::size_t window, std::chrono::milliseconds timeout, int retries,
                           const std::vector<std::string>& lines, Server serve) {
  asio::io_context io;
  udp::socket socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  udp_client_options options;
  options.host = "127.0.0.1";
  options.port = socket.local_endpoint().port();
  options.timeout = timeout;
  options.retries = retries;
  if (!WS_SET_OPTION(options, window, window))
    FAIL("ws05: udp_client_options has no `std::size_t window` yet (src/udp_client/udp_client.hpp) — "
         << readme);
  std::ostringstream out, err;
  coronet::console_input input(io.get_executor());
  for (const auto& line : lines) input.push(line);
  input.push_end();
  client_run run;
  asio::co_spawn(io, serve(std::move(socket)), [](const std::exception_ptr& e) {
    if (e) std::rethrow_exception(e);
  });
  asio::co_spawn(io, coronet::run_udp_client(options, {input, out, err, false}),
                 [&](const std::exception_ptr& e, int code) {
                   if (e) std::rethrow_exception(e);
                   run.exit_code = code;
                   io.stop();
                 });
  io.run_for(coronet::testing::hang_deadline(15s));
  run.out = out.str();
  run.err = err.str();
  return run;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

// Runs the client with window `window` against answer_by_windows(), and
// fails, saying how far it got, unless it finished. A hint for the learner
// ends each failure: `when_held` where the server held every line it got and
// no echo came back, `when_short` where echoes came but the client stopped
// sending.
client_run run_against_windows(const std::vector<std::string>& lines, std::size_t window, answer how,
                               server_log& log, std::string_view when_held = "",
                               std::string_view when_short = "") {
  // The timeout is longer than the test: no line is sent again.
  auto run = run_with_window(window, 60s, 0, lines, [&](udp::socket socket) {
    return answer_by_windows(std::move(socket), window, lines.size(), how, log);
  });
  INFO("the client's stderr:\n" << run.err);
  if (!run.exit_code && log.answered == 0)
    FAIL("ws05: with window = " << window << " the server should have received " << window
                                << " lines before echoing any, but it received " << log.received.size()
                                << when_held << " — " << readme);
  if (!run.exit_code)
    FAIL("ws05: the server echoed " << log.answered << " lines"
                                    << (how == answer::reversed ? " (each window reversed)" : "")
                                    << ", yet the client sent only " << log.received.size() << " of "
                                    << lines.size() << when_short << " — " << readme);
  return run;
}

}  // namespace

TEST_CASE("ws05: the client sends a window of lines before the first echo comes back", "[ws05][workshop]") {
  const std::vector<std::string> lines{"one", "two", "three", "four", "five", "six", "seven", "eight"};
  server_log log;
  // The server answers only once 4 datagrams wait.
  const auto run = run_against_windows(lines, 4, answer::in_order, log,
                                       " and waited for more: keep sending until 4 lines are unanswered",
                                       ": each echo frees a place in the window, for the next line");
  INFO("the client's stderr:\n" << run.err);
  CHECK(*run.exit_code == 0);
  CHECK(run.out == joined(lines));
  CHECK(log.most_held == 4);
  CHECK(log.received == lines);
}

TEST_CASE("ws05: an echo answers whichever line in flight it carries, in any order", "[ws05][workshop]") {
  const std::vector<std::string> lines{"a", "b", "c", "d", "e", "f"};
  server_log log;
  const auto run = run_against_windows(lines, 3, answer::reversed, log);
  INFO("the client's stderr:\n" << run.err);
  CHECK(*run.exit_code == 0);
  CHECK(run.out == joined({"c", "b", "a", "f", "e", "d"}));  // printed as the echoes come
  CHECK(log.received == lines);                              // none sent again
}

TEST_CASE("ws05: a lost datagram is sent again on its own while the window moves on", "[ws05][workshop]") {
  const std::vector<std::string> lines{"a", "b", "c", "d", "e", "f"};
  server_log log;
  const auto run = run_with_window(3, 1s, 3, lines, [&](udp::socket socket) {
    return lose_one(std::move(socket), "b", lines.size(), log);
  });
  INFO("the client's stderr:\n" << run.err);
  INFO("what the server received: " << joined(log.received));
  if (!run.exit_code)
    FAIL(
        "ws05: the client did not finish: the server lost the first 'b'; every other line was echoed at once "
        "— "
        << readme);
  CHECK(*run.exit_code == 0);
  auto out = run.out;
  for (const auto& line : lines) {
    const auto at = out.find(line + "\n");
    CHECK(at != std::string::npos);
    if (at != std::string::npos) out.erase(at, line.size() + 1);
  }
  CHECK(out.empty());  // each line printed once
  // 'd' can go as soon as 'a' is answered; the second 'b' only after b's timeout.
  const auto first_d = std::find(log.received.begin(), log.received.end(), "d");
  const auto first_b = std::find(log.received.begin(), log.received.end(), "b");
  REQUIRE(first_b != log.received.end());
  const auto second_b = std::find(first_b + 1, log.received.end(), "b");
  REQUIRE(second_b != log.received.end());
  if (first_d > second_b)
    FAIL(
        "ws05: 'd' was sent only after the lost 'b' timed out; it should go as soon as 'a' is answered and a "
        "place in the window is free — "
        << readme);
}
