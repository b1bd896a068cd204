// SPDX-License-Identifier: BSL-1.0
// Exercise 04 (docs/workshop/04-heartbeat/README.md): a heartbeat that
// drops dead peers, in chat and room mode. server_options::heartbeat (and
// the command line's --heartbeat SECONDS; zero, the default, is off): when
// a client has sent no line for that long, the server sends it "ping"; any
// line is a sign of life, and "pong" is the usual one, which goes no
// further. A client that sends nothing for another heartbeat after a ping
// is told "error: no heartbeat" and closed ("ADDR disconnected (no
// heartbeat)" on the console). Nothing of a heartbeat outlives its session.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "ws_option.hpp"
#include "ws_tcp_server.hpp"

namespace {

using std::chrono::milliseconds;
using ws::peer;
using ws::reading;

const char* const readme = "see docs/workshop/04-heartbeat/README.md";

// Room mode with a heartbeat of `interval`, once the learner has added the
// option; until then the test fails, saying so.
coronet::server_options room_with_heartbeat(milliseconds interval) {
  auto options = ws::room();
  options.verbose = true;  // "ADDR disconnected (why)" on the console
  if (!WS_SET_OPTION(options, heartbeat, interval))
    FAIL(
        "ws04: server_options has no member heartbeat yet (a std::chrono::milliseconds: how long a client "
        "may "
        "be silent before the server sends it 'ping'; zero: off) - "
        << readme);
  return options;
}

// Answers `p`'s pings with "pong" until it gets a line that is neither a
// ping nor a room notice, which it returns (or the end, or nothing).
ws::asio::awaitable<reading> answer_pings_until_message(peer& p, int* pings) {
  while (true) {
    reading got = co_await ws::read_message(p);
    if (got.what != reading::kind::line || got.text != "ping") co_return got;
    ++*pings;
    co_await ws::send(p, "pong\n");
  }
}

}  // namespace

TEST_CASE("ws04: a silent client is sent ping, then dropped when it does not answer", "[ws04][workshop]") {
  ws::server_under_test server(room_with_heartbeat(milliseconds(300)));
  server.run([&]() -> ws::asio::awaitable<void> {
    peer silent = co_await ws::connect_to(server.port);
    const std::string name = silent.name();
    const reading ping = co_await ws::read_message(silent);
    if (ping.what != reading::kind::line || ping.text != "ping")
      FAIL("ws04: a client silent for a heartbeat (300 ms) should be sent 'ping' but got "
           << ws::describe(ping) << " - " << readme);
    const reading drop = co_await ws::read_message(silent);
    if (drop.what != reading::kind::line || drop.text != "error: no heartbeat")
      FAIL(
          "ws04: a client that does not answer 'ping' within a heartbeat should be told 'error: no "
          "heartbeat' "
          "but got "
          << ws::describe(drop) << " - " << readme);
    const reading end = co_await ws::read_message(silent);
    if (end.what != reading::kind::closed)
      FAIL("ws04: after 'error: no heartbeat' the connection should close, but the client got "
           << ws::describe(end) << " - " << readme);
    // The console says why, once the session has ended.
    const auto give_up = std::chrono::steady_clock::now() + ws::line_deadline();
    const std::string said = name + " disconnected (no heartbeat)";
    while (server.errors().find(said) == std::string::npos && std::chrono::steady_clock::now() < give_up)
      co_await ws::sleep_for(milliseconds(10));
    if (server.errors().find(said) == std::string::npos)
      FAIL("ws04: the console should say '" << said << "' but says:\n" << server.errors() << readme);
  }());
}

// Answers two pings with "pong", then speaks.
ws::asio::awaitable<void> answer_two_pings_then_speak(peer& p) {
  for (int pings = 0; pings < 2; ++pings) {
    const reading got = co_await ws::read_message(p, ws::line_deadline() * 2);
    if (got.what != reading::kind::line || got.text != "ping")
      FAIL("ws04: a client silent for a heartbeat should be sent 'ping' (it had answered "
           << pings << " with 'pong') but got " << ws::describe(got) << " - " << readme);
    co_await ws::send(p, "pong\n");
  }
  co_await ws::send(p, "still here\n");
}

TEST_CASE("ws04: a client that answers pong stays, and pong reaches nobody", "[ws04][workshop]") {
  // Generous: each client must answer within a heartbeat, on a loaded machine too.
  ws::server_under_test server(room_with_heartbeat(milliseconds(1500)));
  server.run([&]() -> ws::asio::awaitable<void> {
    using namespace ws::asio::experimental::awaitable_operators;
    auto peers = co_await ws::join_room(server.port, 2);
    peer& alive = peers[0];
    peer& listener = peers[1];
    // Both are silent, so both are pinged; the listener answers its own
    // pings while `alive` answers two of its own and then speaks.
    int listener_pings = 0;
    const reading got = co_await (answer_two_pings_then_speak(alive) &&
                                  answer_pings_until_message(listener, &listener_pings));
    const std::string expected = "<" + alive.name() + "> still here";
    if (got.what != reading::kind::line || got.text != expected)
      FAIL(
          "ws04: a client that answered two pings with 'pong' should still be there, and 'pong' go nowhere: "
          "the other client should get '"
          << expected << "' but got " << ws::describe(got) << " - " << readme);
  }());
}

TEST_CASE("ws04: nothing of a heartbeat outlives its session", "[ws04][workshop]") {
  // A heartbeat much longer than the test: a client comes, says a line and
  // goes; the server shuts down. Then nothing the server started may still
  // be waiting: the io_context runs out of work at once.
  ws::server_under_test server(room_with_heartbeat(std::chrono::minutes(2)));
  server.run(
      [&]() -> ws::asio::awaitable<void> {
        auto peers = co_await ws::join_room(server.port, 2);
        co_await ws::send(peers[0], "hello\nq\n");
        const reading got = co_await ws::read_message(peers[1]);
        const std::string expected = "<" + peers[0].name() + "> hello";
        if (got.what != reading::kind::line || got.text != expected)
          FAIL("ws04: the other client should get '" << expected << "' but got " << ws::describe(got) << " - "
                                                     << readme);
        const std::string left = "* " + peers[0].name() + " left";
        const bool gone = co_await ws::read_until_line(peers[1], left, nullptr);
        if (!gone) FAIL("ws04: the client that sent q should have left - " << readme);
      }(),
      std::chrono::seconds(20));
  if (!server.left_nothing_behind())
    FAIL(
        "ws04: the server shut down (its sessions ended, serve() returned), but 20 s after the test began "
        "something it had started still waited, with a heartbeat of 2 minutes: whatever waits for a "
        "heartbeat must end with its session - "
        << readme);
}
