// SPDX-License-Identifier: BSL-1.0
// Exercise 01 (docs/workshop/01-nick/README.md): `/nick NAME` in room mode.
// A client that sends `/nick alice` is shown to the others as <alice>
// instead of its address; the others are told "* ADDR is now alice"; the
// command itself is not relayed. A name is 1 to 32 letters, digits, '-' or
// '_'; anything else is refused with a line that starts "error: ".
#include <catch2/catch_test_macros.hpp>

#include <string>
#include <vector>

#include "ws_tcp_server.hpp"

namespace {

using ws::peer;
using ws::reading;

const char* const readme = "see docs/workshop/01-nick/README.md";

// The next line `p` gets must be `expected`; else the test fails, saying
// what `after` the client did and what came instead.
ws::asio::awaitable<void> expect(peer& p, const std::string& expected, const std::string& after) {
  const reading got = co_await ws::read_line(p);
  if (got.what != reading::kind::line || got.text != expected)
    FAIL("ws01: after " << after << ", the client should get '" << expected << "' but got "
                        << ws::describe(got) << " - " << readme);
}

}  // namespace

TEST_CASE("ws01: after /nick alice the others see <alice> and are told of the new name", "[ws01][workshop]") {
  ws::run_in_room(ws::room(), 2, [](std::vector<peer>& peers) -> ws::asio::awaitable<void> {
    peer& alice = peers[0];
    peer& bob = peers[1];
    co_await ws::send(alice, "/nick alice\n");
    co_await expect(bob, "* " + alice.name() + " is now alice", "'/nick alice'");
    co_await ws::send(alice, "hi\n");
    co_await expect(bob, "<alice> hi", "'/nick alice' then 'hi'");
    // A second /nick renames again, and the notice names the old nick.
    co_await ws::send(alice, "/nick alice_2\nstill me\n");
    co_await expect(bob, "* alice is now alice_2", "'/nick alice' then '/nick alice_2'");
    co_await expect(bob, "<alice_2> still me", "'/nick alice_2' then 'still me'");
  });
}

TEST_CASE("ws01: each client has a nick of its own; one without keeps its address", "[ws01][workshop]") {
  ws::run_in_room(ws::room(), 3, [](std::vector<peer>& peers) -> ws::asio::awaitable<void> {
    peer& alice = peers[0];
    peer& bob = peers[1];
    peer& carol = peers[2];  // never sets a nick
    co_await ws::send(alice, "/nick alice\n");
    co_await expect(carol, "* " + alice.name() + " is now alice", "alice's '/nick alice'");
    co_await ws::send(bob, "/nick bob\n");
    co_await expect(carol, "* " + bob.name() + " is now bob", "alice's '/nick alice' and bob's '/nick bob'");
    co_await ws::send(alice, "hi from alice\n");
    co_await expect(carol, "<alice> hi from alice",
                    "'/nick alice', '/nick bob', then alice's 'hi from alice'");
    co_await ws::send(bob, "hi from bob\n");
    co_await expect(carol, "<bob> hi from bob", "'/nick bob', then bob's 'hi from bob'");
    co_await ws::send(carol, "hi from carol\n");
    std::vector<std::string> before;
    const std::string expected = "<" + carol.name() + "> hi from carol";
    const bool seen = co_await ws::read_until_line(bob, expected, &before);
    if (!seen) FAIL("ws01: carol set no nick, so bob should see '" << expected << "' - " << readme);
  });
}

TEST_CASE("ws01: a nick that is not 1 to 32 letters, digits, - or _ is refused and not relayed",
          "[ws01][workshop]") {
  ws::run_in_room(ws::room(), 2, [](std::vector<peer>& peers) -> ws::asio::awaitable<void> {
    peer& alice = peers[0];
    peer& bob = peers[1];
    const std::vector<std::string> refused = {"/nick", "/nick ", "/nick two words", "/nick bad:name",
                                              "/nick " + std::string(33, 'x')};
    for (const auto& command : refused) {
      co_await ws::send(alice, command + "\n");
      const reading got = co_await ws::read_line(alice);
      if (got.what != reading::kind::line || !got.text.starts_with("error: "))
        FAIL("ws01: '" << command
                       << "' should be answered with a line that starts 'error: ' but the client got "
                       << ws::describe(got) << " - " << readme);
    }
    // None of them reached bob: the next lines he gets are these.
    co_await ws::send(alice, "/nick " + std::string(32, 'y') + "\nok\n");
    const std::string nick(32, 'y');
    co_await expect(bob, "* " + alice.name() + " is now " + nick, "refused nicks, then a 32-letter one");
    co_await expect(bob, "<" + nick + "> ok", "a 32-letter nick, then 'ok'");
  });
}
