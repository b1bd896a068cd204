// SPDX-License-Identifier: BSL-1.0
// Exercise 02 (docs/workshop/02-stats/README.md): a /stats command in room
// mode. The server answers the client that sent it, and only that client,
// with one line:
//   stats: 3 clients here, 12 lines relayed, 4 from you
// (the clients connected now; the lines the server has relayed to the room
// since it started; how many of them came from this client). /stats itself
// is neither relayed nor counted. The answer arrives as a line of its own
// even while the client is being sent a flood of other lines.
#include <catch2/catch_test_macros.hpp>

#include <string>
#include <vector>

#include "ws_tcp_server.hpp"

namespace {

using ws::peer;
using ws::reading;

const char* const readme = "see docs/workshop/02-stats/README.md";

ws::asio::awaitable<void> expect_stats(peer& p, const std::string& expected, const std::string& when) {
  co_await ws::send(p, "/stats\n");
  const reading got = co_await ws::read_message(p);
  if (got.what != reading::kind::line || got.text != expected)
    FAIL("ws02: " << when << ", '/stats' should be answered '" << expected << "' but the client got "
                  << ws::describe(got) << " - " << readme);
}

// Reads until `p` has seen `line`, which another client sent.
ws::asio::awaitable<void> wait_for(peer& p, const std::string& line) {
  const bool seen = co_await ws::read_until_line(p, line, nullptr);
  if (!seen) FAIL("ws02: a room line never arrived: '" << line << "' - " << readme);
}

}  // namespace

TEST_CASE("ws02: /stats counts the clients, the lines relayed and the sender's own", "[ws02][workshop]") {
  ws::run_in_room(ws::room(), 3, [](std::vector<peer>& peers) -> ws::asio::awaitable<void> {
    peer& alice = peers[0];
    peer& bob = peers[1];
    peer& carol = peers[2];
    co_await expect_stats(alice, "stats: 3 clients here, 0 lines relayed, 0 from you",
                          "with three clients and no line yet");

    co_await ws::send(alice, "one\ntwo\n");
    co_await ws::send(bob, "three\n");
    co_await wait_for(carol, "<" + alice.name() + "> two");
    co_await wait_for(carol, "<" + bob.name() + "> three");
    co_await wait_for(bob, "<" + alice.name() + "> two");
    co_await expect_stats(bob, "stats: 3 clients here, 3 lines relayed, 1 from you",
                          "after alice sent 2 lines and bob 1 (and alice's /stats)");

    // /stats reached nobody else: carol's next line is alice's next one.
    co_await ws::send(alice, "four\n");
    const reading next = co_await ws::read_message(carol);
    const std::string expected = "<" + alice.name() + "> four";
    if (next.what != reading::kind::line || next.text != expected)
      FAIL(
          "ws02: '/stats' must not be relayed to the room: after bob's /stats and alice's 'four', carol "
          "should "
          "get '"
          << expected << "' but got " << ws::describe(next) << " - " << readme);

    // A client that leaves (q) is no longer counted.
    const std::string carol_left = "* " + carol.name() + " left";
    co_await ws::send(carol, "q\n");
    co_await wait_for(alice, carol_left);
    co_await expect_stats(alice, "stats: 2 clients here, 4 lines relayed, 3 from you", "after carol left");
  });
}

TEST_CASE("ws02: the answer to /stats is a whole line of its own, even while the client is sent a flood",
          "[ws02][workshop]") {
  auto options = ws::room();
  // The flood must wait for alice, however long she does not read.
  options.room_queue = std::size_t{256} << 20;
  options.stall_timeout = std::chrono::hours(1);
  options.idle_timeout = {};
  ws::run_in_room(options, 2, [](std::vector<peer>& peers) -> ws::asio::awaitable<void> {
    peer& alice = peers[0];
    peer& bob = peers[1];
    // More than the kernel's buffers between the server and alice hold, so
    // the server is still sending her the flood when she asks; in long
    // lines, so that the kernel takes a part of one at a time. Her receive
    // buffer is fixed and small: loopback would otherwise grow it up to
    // tcp_rmem's maximum (32 MiB on Debian), more than the whole flood.
    alice.socket.set_option(ws::asio::socket_base::receive_buffer_size(64 * 1024));
    constexpr int flood_lines = 200;
    const std::string text(60000, 'f');
    std::string flood;
    for (int i = 0; i < flood_lines; ++i) flood += text + "\n";
    co_await ws::send(bob, flood);
    // Alice asks again and again while the flood comes: each answer must be
    // a whole line between two of bob's. One ask may find the server
    // between two of his lines by chance; twenty in a row do not.
    constexpr int asks = 20;
    co_await ws::send(alice, "/stats\n");
    int asked = 1;
    int answered = 0;
    int flood_seen = 0;
    const std::string bobs_line = "<" + bob.name() + "> " + text;
    while (flood_seen < flood_lines || answered < asked) {
      const reading got = co_await ws::read_message(alice);
      if (got.what != reading::kind::line) {
        if (answered == 0)
          FAIL("ws02: alice sent '/stats' while bob's "
               << flood_lines << " lines were on their way to her; after " << flood_seen
               << " of them she got " << ws::describe(got) << " and no answer - " << readme);
        FAIL("ws02: alice asked " << asked << " times, got " << answered << " answers and " << flood_seen
                                  << " of bob's " << flood_lines << " lines, then " << ws::describe(got));
      }
      if (got.text == bobs_line) {
        ++flood_seen;
        if (asked < asks && flood_seen % (flood_lines / asks) == 0) {
          co_await ws::send(alice, "/stats\n");
          ++asked;
        }
      } else if (answered < asked && got.text.starts_with("stats: 2 clients here, ")) {
        ++answered;
      } else {
        FAIL(
            "ws02: while bob's lines were on their way to alice she got a line that is neither "
            "one of them nor the answer to /stats ("
            << got.text.size() << " bytes, it begins '" << got.text.substr(0, 60)
            << "'): two writes were on her socket at once - " << readme);
      }
    }
  });
}
