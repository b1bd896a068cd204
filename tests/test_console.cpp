// SPDX-License-Identifier: BSL-1.0
// The console: typed lines reach a coroutine through the channel, from a test
// or from a real stdin (a pipe or a regular file), and the program can leave
// while the stdin thread still waits.
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
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

// A console that does not read: 10,000 lines go into a pipe nobody drains
// yet, which holds 64 KiB, through a queue of 4096 bytes. Writing never waits
// for the console (were it to, this test would hang). Then a reader starts,
// and every line is accounted for: received, or counted in a notice.
TEST_CASE("console_output never waits for a console that does not read, and says what it dropped") {
  int fds[2];
  REQUIRE(posix::pipe(fds) == 0);
  std::string received_text;
  std::thread reader;
  int attempts_at_last = 0;
  {
    coronet::console_output out(fds[1], 4096, std::chrono::seconds(5));
    const std::string line(99, 'x');
    for (int i = 0; i < 10'000; ++i) coronet::write_line(out, line);
    std::atomic<bool> saw_last = false;
    reader = std::thread([&, fd = fds[0]] {
      char buffer[65536];
      for (long n; (n = posix::read(fd, buffer, sizeof buffer)) > 0;) {
        received_text.append(buffer, static_cast<std::size_t>(n));
        if (received_text.ends_with("last\n")) saw_last = true;
      }
    });
    // Once the reader has made room, the next line goes through, after a
    // notice of what was missed. Polls: writing must never wait for the
    // console, so there is nothing to wait on but trying again.
    while (!saw_last && attempts_at_last < 1000) {
      coronet::write_line(out, "last");
      ++attempts_at_last;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }  // waits until the console has taken what is queued
  posix::close(fds[1]);
  reader.join();
  posix::close(fds[0]);

  std::size_t x_lines = 0;
  std::size_t last_lines = 0;
  std::size_t missed = 0;
  std::size_t notices = 0;
  std::size_t start = 0;
  while (start < received_text.size()) {
    const std::size_t end = received_text.find('\n', start);
    REQUIRE(end != std::string::npos);
    const std::string got = received_text.substr(start, end - start);
    start = end + 1;
    if (got == std::string(99, 'x')) {
      ++x_lines;
    } else if (got == "last") {
      ++last_lines;
    } else {
      REQUIRE(got.starts_with("("));
      REQUIRE(got.ends_with(" lines not shown: the console was not reading)"));
      missed += std::stoul(got.substr(1));
      ++notices;
    }
  }
  CHECK(x_lines > 0);
  CHECK(x_lines < 10'000);  // the pipe and the queue cannot hold them all
  CHECK(notices >= 1);
  CHECK(last_lines >= 1);
  CHECK(x_lines + last_lines + missed == 10'000 + static_cast<std::size_t>(attempts_at_last));
}

namespace {

// The 99-byte lines, the "(N lines not shown ...)" notices and their counts in `text`.
struct console_tally {
  std::size_t lines = 0, missed = 0, notices = 0;
};
console_tally tally(const std::string& text) {
  console_tally t;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    REQUIRE(end != std::string::npos);
    const std::string got = text.substr(start, end - start);
    start = end + 1;
    if (got == std::string(99, 'x')) {
      ++t.lines;
      continue;
    }
    REQUIRE(got.starts_with("("));
    REQUIRE(got.ends_with(" lines not shown: the console was not reading)"));
    t.missed += std::stoul(got.substr(1));
    ++t.notices;
  }
  return t;
}

}  // namespace

// The console catches up and the program prints nothing more: the count of
// what it missed must not wait for a next line that never comes.
TEST_CASE("console_output says what it dropped as soon as the console has caught up") {
  int fds[2];
  REQUIRE(posix::pipe(fds) == 0);
  std::string received_text;
  std::thread reader;
  std::promise<void> notice;  // set by the reader at the notice
  auto notice_arrived = notice.get_future();
  bool notice_seen_before_the_end = false;
  {
    coronet::console_output out(fds[1], 4096, std::chrono::seconds(5));
    for (int i = 0; i < 10'000; ++i) coronet::write_line(out, std::string(99, 'x'));
    reader = std::thread([&, fd = fds[0]] {
      char buffer[65536];
      bool seen = false;
      for (long n; (n = posix::read(fd, buffer, sizeof buffer)) > 0;) {
        received_text.append(buffer, static_cast<std::size_t>(n));
        if (!seen && received_text.ends_with("the console was not reading)\n")) {
          seen = true;
          notice.set_value();
        }
      }
    });
    // Nothing more is written: the notice must come by itself, while `out` lives.
    notice_seen_before_the_end =
        notice_arrived.wait_for(hang_deadline(std::chrono::seconds(10))) == std::future_status::ready;
  }
  posix::close(fds[1]);
  reader.join();
  posix::close(fds[0]);
  CHECK(notice_seen_before_the_end);
  const auto t = tally(received_text);
  CHECK(t.notices >= 1);
  CHECK(t.lines + t.missed == 10'000);
  CHECK(received_text.ends_with(" lines not shown: the console was not reading)\n"));
}

// The program stops while its console is behind: the count comes last, at the end.
TEST_CASE("console_output says what it dropped at the end at the latest") {
  int fds[2];
  REQUIRE(posix::pipe(fds) == 0);
  std::string received_text;
  std::thread reader;
  {
    coronet::console_output out(fds[1], 4096, std::chrono::seconds(10));
    for (int i = 0; i < 10'000; ++i) coronet::write_line(out, std::string(99, 'x'));
    reader = std::thread([&, fd = fds[0]] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the program is stopping by then
      char buffer[65536];
      for (long n; (n = posix::read(fd, buffer, sizeof buffer)) > 0;)
        received_text.append(buffer, static_cast<std::size_t>(n));
    });
  }  // the destructor queues the notice and waits for the console to take it
  posix::close(fds[1]);
  reader.join();
  posix::close(fds[0]);
  const auto t = tally(received_text);
  CHECK(t.notices >= 1);
  CHECK(t.lines + t.missed == 10'000);
  CHECK(received_text.ends_with(" lines not shown: the console was not reading)\n"));
}
