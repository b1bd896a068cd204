// SPDX-License-Identifier: BSL-1.0
// The console's output: console_output never waits for a console that does
// not read, and says what it dropped, as soon as the console has caught up or
// at the end at the latest.
#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <future>
#include <string>
#include <thread>

#include "coronet/console.hpp"
#include "posix_io.hpp"
#include "time_scale.hpp"

namespace posix = coronet::testing::posix;
using coronet::testing::hang_deadline;

namespace {

// The 99-byte lines, the "last" lines, the "(N lines not shown ...)" notices
// and their counts in `text`; any other line fails the test.
struct console_tally {
  std::size_t lines = 0, last = 0, missed = 0, notices = 0;
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
    if (got == "last") {
      ++t.last;
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

  const auto t = tally(received_text);
  CHECK(t.lines > 0);
  CHECK(t.lines < 10'000);  // the pipe and the queue cannot hold them all
  CHECK(t.notices >= 1);
  CHECK(t.last >= 1);
  CHECK(t.lines + t.last + t.missed == 10'000 + static_cast<std::size_t>(attempts_at_last));
}

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
  CHECK(t.last == 0);  // no test line but the 99-byte ones
  CHECK(t.lines + t.missed == 10'000);
  CHECK(received_text.ends_with(" lines not shown: the console was not reading)\n"));
}

// The program stops while its console is behind: the count comes last, at
// the end. Behind from the start: its pipe is full before the first line,
// so the writer thread blocks at once and every line past the queue is
// dropped, however fast or slow each thread runs. (Left to the threads'
// pace, a writer thread slower than the program, as under ThreadSanitizer,
// may have emptied the queue and said the count just before the last lines
// came: nothing was then left to say at the end.)
TEST_CASE("console_output says what it dropped at the end at the latest") {
  int fds[2];
  REQUIRE(posix::pipe(fds) == 0);
  const std::string line = std::string(99, 'x') + "\n";
  const int already_there = posix::fill(fds[0], fds[1], line);
  REQUIRE(already_there > 0);
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
  CHECK(t.last == 0);  // no test line but the 99-byte ones
  CHECK(t.lines + t.missed == 10'000 + static_cast<std::size_t>(already_there));
  CHECK(received_text.ends_with(" lines not shown: the console was not reading)\n"));
}
