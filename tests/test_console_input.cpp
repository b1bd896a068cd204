// SPDX-License-Identifier: BSL-1.0
// The console's input: typed lines reach a coroutine through the channel,
// from a test or from a real stdin (a pipe or a regular file), and the
// program can leave while the stdin thread still waits. Its output:
// test_console_output.cpp.
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "coronet/console.hpp"
#include "coronet/protocol.hpp"
#include "posix_io.hpp"
#include "support.hpp"
#include "time_scale.hpp"

namespace asio = boost::asio;
namespace posix = coronet::testing::posix;
using namespace coronet::testing;
using coronet::console_input;
using coronet::error_code;

namespace {

struct received {
  std::vector<std::string> lines;
  int too_long = 0;
  bool ended = false;
};

// Receives until the end of input.
// Pointers, not references: both must outlive this coroutine, which suspends
// in every receive.
asio::awaitable<void> receive_all(console_input* input, received* out) {
  while (true) {
    auto [ec, line] = co_await input->receive();
    if (ec == asio::error::eof) {
      out->ended = true;
      co_return;
    }
    if (ec == coronet::errc::line_too_long) {
      ++out->too_long;
      continue;
    }
    REQUIRE_FALSE(ec);
    out->lines.push_back(std::move(line));
  }
}

received read_stdin_from(int fd, std::size_t max_line = coronet::default_max_line) {
  const stdin_redirect redirect(fd);
  asio::io_context io;
  console_input input(io.get_executor(), max_line);
  input.read_stdin();
  received out;
  spawn(io, receive_all(&input, &out));
  io.run();
  return out;
}

}  // namespace

TEST_CASE("pushed lines and the end of input arrive in order") {
  asio::io_context io;
  console_input input(io.get_executor());
  input.push("one");
  input.push("");
  input.push("q");
  input.push_end();
  received out;
  spawn(io, receive_all(&input, &out));
  io.run();
  CHECK(out.lines == std::vector<std::string>{"one\n", "\n", "q\n"});
  CHECK(out.ended);
}

TEST_CASE("stdin from a pipe: lines exactly as read, CRLF kept, a last line without LF") {
  int fds[2];
  REQUIRE(posix::pipe(fds) == 0);
  const std::string text = "first\r\nsecond\n\nlast";
  REQUIRE(posix::write(fds[1], text.data(), text.size()) == static_cast<long>(text.size()));
  posix::close(fds[1]);
  const auto out = read_stdin_from(fds[0]);
  posix::close(fds[0]);
  CHECK(out.lines == std::vector<std::string>{"first\r\n", "second\n", "\n", "last"});
  CHECK(out.ended);
}

TEST_CASE("stdin from a regular file, more lines than the channel holds") {
  std::FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  std::vector<std::string> expected;
  for (int i = 0; i < 2000; ++i) {
    expected.push_back("line " + std::to_string(i) + "\n");
    std::fputs(expected.back().c_str(), file);
  }
  std::fflush(file);
  REQUIRE(std::fseek(file, 0, SEEK_SET) == 0);
  const auto out = read_stdin_from(posix::fileno(file));
  std::fclose(file);
  CHECK(out.lines == expected);
  CHECK(out.ended);
}

// The stdin thread waits for room while the channel is full, and each
// receive wakes it. With room for one line, every line is such a hand-over:
// a wake-up lost between the thread's check for room and its wait (a notify
// sent without the mutex the thread checks under) would leave it asleep
// beside an empty channel, and this test would stop short of the end (with
// such a notify it failed in 2 of 4 runs).
TEST_CASE("stdin through a channel that holds one line: each of 200000 lines is handed over") {
  int fds[2];
  REQUIRE(posix::pipe(fds) == 0);
  constexpr int count = 200'000;
  std::thread writer([fd = fds[1]] {
    for (int i = 0; i < count; ++i) {
      const std::string line = "line " + std::to_string(i) + "\n";
      if (posix::write(fd, line.data(), line.size()) != static_cast<long>(line.size())) break;
    }
    posix::close(fd);
  });
  received out;
  {
    const stdin_redirect redirect(fds[0]);
    asio::io_context io;
    console_input input(io.get_executor(), coronet::default_max_line, 1);
    input.read_stdin();
    spawn(io, receive_all(&input, &out));
    io.run_for(coronet::testing::hang_deadline(std::chrono::seconds(120)));
  }
  // If the hand-over got stuck, what the writer still has to write goes nowhere.
  char rest[4096];
  while (posix::read(fds[0], rest, sizeof rest) > 0) {
  }
  writer.join();
  posix::close(fds[0]);
  CHECK(out.ended);
  REQUIRE(out.lines.size() == count);
  for (int i = 0; i < count; ++i) REQUIRE(out.lines[i] == "line " + std::to_string(i) + "\n");
}

TEST_CASE("a typed line over the limit is reported and dropped; reading goes on") {
  int fds[2];
  REQUIRE(posix::pipe(fds) == 0);
  const std::string text = "short\n" + std::string(100, 'x') + "\nafter\n";
  REQUIRE(posix::write(fds[1], text.data(), text.size()) == static_cast<long>(text.size()));
  posix::close(fds[1]);
  const auto out = read_stdin_from(fds[0], 10);
  posix::close(fds[0]);
  CHECK(out.lines == std::vector<std::string>{"short\n", "after\n"});
  CHECK(out.too_long == 1);
}

TEST_CASE("the program may leave while the stdin thread still waits for a line") {
  int fds[2];
  REQUIRE(posix::pipe(fds) == 0);
  const stdin_redirect redirect(fds[0]);
  {
    asio::io_context io;
    console_input input(io.get_executor());
    input.read_stdin();  // waits in read(): nothing has been written yet
  }                      // input and io_context gone; the thread holds no reference to them
  // A line written now is read by the orphaned thread and dropped (under ASan
  // a touch of the destroyed channel would fail the test here).
  REQUIRE(posix::write(fds[1], "late\n", 5) == 5);
  // Polls: the orphaned thread holds nothing of the test's that it could
  // signal, which is the point; only the pipe shows that it read the line.
  long unread = 5;
  for (int i = 0; i < 200 && unread > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    unread = posix::unread(fds[0]);
    REQUIRE(unread >= 0);
  }
  CHECK(unread == 0);
  posix::close(fds[1]);
  posix::close(fds[0]);
}

TEST_CASE("try_receive takes what is already waiting and never suspends") {
  asio::io_context io;
  console_input input(io.get_executor());
  CHECK_FALSE(input.try_receive().has_value());
  input.push("one");
  input.push_end();
  const auto first = input.try_receive();
  REQUIRE(first.has_value());
  CHECK(first == std::tuple{error_code{}, std::string("one\n")});
  const auto second = input.try_receive();
  REQUIRE(second.has_value());
  CHECK((second && std::get<0>(*second) == asio::error::eof));
  CHECK_FALSE(input.try_receive().has_value());
}
