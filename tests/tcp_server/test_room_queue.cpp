// SPDX-License-Identifier: BSL-1.0
// The room_queue limit, to the byte. A room of three: a sleeper that never
// reads, a reader, a sender. The sender's first line is larger than the
// socket buffers take, so the sleeper's writer stays in the middle of writing
// it, and whatever is relayed after it waits in the sleeper's queue, whose
// size the test then knows exactly.
#include <catch2/catch_test_macros.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "support.hpp"

namespace asio = boost::asio;
using namespace coronet::testing;

namespace {

struct stuck_room {
  peer sleeper, reader, sender;
  std::string sleeper_name, sender_prefix;  // "<SENDER> "
};

server_options stuck_room_options() {
  server_options options = options_for(server_mode::room);
  options.max_line = larger_than_socket_buffers();
  options.room_queue = 4096;
  options.stall_timeout = 200ms;
  return options;
}

asio::awaitable<stuck_room> open_stuck_room(std::uint16_t port) {
  auto [sleeper, reader, sender] = co_await open_slow_room(port);
  const std::string prefix = "<" + sender.name() + "> ";
  const std::string blocking(larger_than_socket_buffers(), 'B');
  co_await sender.send(blocking + "\n");
  // The reader has it: it was queued for the sleeper at the same moment.
  co_await reader.expect_line(prefix + blocking + "\n");
  const std::string sleeper_name = sleeper.name();
  co_return stuck_room{.sleeper = std::move(sleeper),
                       .reader = std::move(reader),
                       .sender = std::move(sender),
                       .sleeper_name = sleeper_name,
                       .sender_prefix = prefix};
}

// Lines for the sender whose relayed copies ("<SENDER> text\n") add up to
// exactly `total` bytes.
std::vector<std::string> lines_relayed_as(std::size_t total, std::size_t prefix_size) {
  const std::size_t framing = prefix_size + 1;  // the prefix and the LF
  std::vector<std::string> lines;
  std::size_t left = total;
  while (left >= 2 * (framing + 100)) {
    lines.push_back(std::string(100, 'x') + "\n");
    left -= framing + 100;
  }
  const std::size_t half = left / 2;  // the rest in two lines, both long enough for their framing
  lines.push_back(std::string(half - framing, 'y') + "\n");
  lines.push_back(std::string(left - half - framing, 'z') + "\n");
  return lines;
}

// Sends those lines and checks that the reader gets them all.
asio::awaitable<void> relay_exactly(stuck_room* room, std::size_t total) {
  const auto lines = lines_relayed_as(total, room->sender_prefix.size());
  std::string all;
  for (const auto& line : lines) all += line;
  co_await room->sender.send(all);
  for (const auto& line : lines) co_await room->reader.expect_line(room->sender_prefix + line);
}

}  // namespace

TEST_CASE("room: a queue of exactly room_queue bytes is no stall; its client stays and nobody is held back") {
  test_server server(stuck_room_options());
  server.run([](test_server* server) -> asio::awaitable<void> {
    auto room = co_await open_stuck_room(server->port());
    co_await relay_exactly(&room, 4096);  // the reader gets them all: the sender is not held back
    // Nothing may happen here, so nothing can be waited for: three stall
    // timeouts pass, and then the server must not have dropped anyone.
    co_await sleep_for(600ms);
    CHECK_FALSE(contains(server->errors(), "dropped"));
    co_await room.sender.send("later\n");
    co_await room.reader.expect_line(room.sender_prefix + "later\n");  // and no "left" notice before it
  }(&server));
}

TEST_CASE("room: a queue one byte over room_queue for stall_timeout drops that client only") {
  test_server server(stuck_room_options());
  server.run([](test_server* server) -> asio::awaitable<void> {
    auto room = co_await open_stuck_room(server->port());
    co_await relay_exactly(&room, 4097);
    co_await server->expect_errors("dropped " + room.sleeper_name +
                                   ": it does not read (over 4096 bytes waiting)");
    co_await room.reader.expect_line("* " + room.sleeper_name + " left\n");
    co_await room.sender.send("later\n");
    co_await room.reader.expect_line(room.sender_prefix + "later\n");
  }(&server));
}
