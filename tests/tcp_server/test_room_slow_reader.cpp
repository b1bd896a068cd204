// SPDX-License-Identifier: BSL-1.0
// Room back-pressure with a client that stops reading: it is dropped, while
// a reader that keeps up gets every line, and a fast sender is held back
// (not the reader dropped) when the queues fill.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <cstddef>
#include <string>

#include "support.hpp"
#include "time_scale.hpp"

namespace asio = boost::asio;
using namespace coronet::testing;

namespace {

// Reads `count` lines that should all be `expected`, skipping notices ("* ...").
asio::awaitable<void> read_lines_from(peer* p, int count, std::string expected) {
  int received = 0;
  int equal = 0;
  while (received < count) {
    const std::string got = co_await p->read_line();
    if (got.empty()) break;  // dropped
    if (got.starts_with("* ")) continue;
    ++received;
    if (got == expected) ++equal;
  }
  CHECK(received == count);
  CHECK(equal == count);
}

}  // namespace

TEST_CASE("room drops a client that stops reading while the others get every line") {
  server_options options = options_for(server_mode::room);
  options.room_queue = std::size_t{64} * 1024;
  test_server server(options);
  server.run([](test_server* server) -> asio::awaitable<void> {
    auto [sleeper, reader, sender] = co_await open_slow_room(server->port());
    const std::string sleeper_name = sleeper.name();
    const std::string line(1000, 'z');
    const std::string expected = "<" + sender.name() + "> " + line + "\n";
    const int count = 20000;  // 20 MB through the room
    std::size_t received = 0;
    bool all_equal = true;
    for (int i = 0; i < count; i += 100) {
      std::string batch;
      for (int j = 0; j < 100; ++j) batch += line + "\n";
      co_await sender.send(batch);
      for (int j = 0; j < 100; ++j) {
        auto got = co_await reader.read_line();
        if (got.starts_with("* ")) got = co_await reader.read_line();  // the sleeper's leave notice
        all_equal = all_equal && got == expected;
        ++received;
      }
    }
    CHECK(all_equal);
    CHECK(received == count);
    co_await server->expect_errors("dropped " + sleeper_name);
  }(&server));
}

// Before the sender was held back, the reader fell more than room_queue
// behind during the burst and was dropped along with the sleeper.
TEST_CASE("room holds a fast sender back: a reader gets a whole burst, a sleeper is dropped") {
  const unsigned threads = GENERATE(1U, 2U);
  server_options options = options_for(server_mode::room);
  options.room_queue = std::size_t{64} * 1024;
  // The reader must keep up within the stall timeout. It reads as fast as it
  // can, but on a loaded machine (or under a sanitizer) its thread can be
  // off the CPU for a few hundred milliseconds: with 300 ms it was dropped
  // now and then at a load average of 10-20. The server's default (2 s),
  // stretched under valgrind with the time scale.
  options.stall_timeout = hang_deadline(2s);
  test_server server(options, threads);
  server.run([](test_server* server) -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    auto [sleeper, reader, sender] = co_await open_slow_room(server->port());
    const std::string sleeper_name = sleeper.name();
    const std::string line(1000, 'z');
    const std::string expected = "<" + sender.name() + "> " + line + "\n";
    // In one write: more than the kernel can buffer for the sleeper, so that
    // its queue must fill (4 MB did not always: Linux grows a send buffer up
    // to 4 MiB), and over a hundred times the queue limit.
    const int count = static_cast<int>(larger_than_socket_buffers() / (line.size() + 1)) + 1;
    std::string burst;
    for (int i = 0; i < count; ++i) burst += line + "\n";
    co_await (sender.send(burst) && read_lines_from(&reader, count, expected));
    co_await server->expect_errors("dropped " + sleeper_name);
    CHECK_FALSE(contains(server->errors(), "dropped " + reader.name()));
  }(&server));
}
