// The console: typed lines reach a coroutine through the channel, from a test
// or from a real stdin (a pipe or a regular file), and the program can leave
// while the stdin thread still waits.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "coronet/console.hpp"

namespace asio = boost::asio;
using coronet::console_input;
using coronet::error_code;

namespace {

struct received {
  std::vector<std::string> lines;
  int too_long = 0;
  bool ended = false;
};

// Receives until the end of input.
asio::awaitable<void> receive_all(console_input& input, received& out) {
  while (true) {
    auto [ec, line] = co_await input.receive();
    if (ec == asio::error::eof) {
      out.ended = true;
      co_return;
    }
    if (ec == coronet::errc::line_too_long) {
      ++out.too_long;
      continue;
    }
    REQUIRE_FALSE(ec);
    out.lines.push_back(std::move(line));
  }
}

void rethrow(const std::exception_ptr& e) {
  if (e) std::rethrow_exception(e);
}

// Points this process's stdin at fd for the test's duration.
class stdin_redirect {
 public:
  explicit stdin_redirect(int fd) : saved_(::dup(0)) { ::dup2(fd, 0); }
  ~stdin_redirect() {
    ::dup2(saved_, 0);
    ::close(saved_);
  }
  stdin_redirect(const stdin_redirect&) = delete;
  stdin_redirect& operator=(const stdin_redirect&) = delete;

 private:
  int saved_;
};

received read_stdin_from(int fd, std::size_t max_line = coronet::default_max_line) {
  stdin_redirect redirect(fd);
  asio::io_context io;
  console_input input(io.get_executor(), max_line);
  input.read_stdin();
  received out;
  asio::co_spawn(io, receive_all(input, out), rethrow);
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
  asio::co_spawn(io, receive_all(input, out), rethrow);
  io.run();
  CHECK(out.lines == std::vector<std::string>{"one", "", "q"});
  CHECK(out.ended);
}

TEST_CASE("stdin from a pipe: lines without endings, a last line without LF") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const std::string text = "first\r\nsecond\n\nlast";
  REQUIRE(::write(fds[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fds[1]);
  const auto out = read_stdin_from(fds[0]);
  ::close(fds[0]);
  CHECK(out.lines == std::vector<std::string>{"first", "second", "", "last"});
  CHECK(out.ended);
}

TEST_CASE("stdin from a regular file, more lines than the channel holds") {
  std::FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  std::vector<std::string> expected;
  for (int i = 0; i < 2000; ++i) {
    expected.push_back("line " + std::to_string(i));
    std::fputs((expected.back() + "\n").c_str(), file);
  }
  std::fflush(file);
  std::rewind(file);
  const auto out = read_stdin_from(::fileno(file));
  std::fclose(file);
  CHECK(out.lines == expected);
  CHECK(out.ended);
}

TEST_CASE("a typed line over the limit is reported and dropped; reading goes on") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const std::string text = "short\n" + std::string(100, 'x') + "\nafter\n";
  REQUIRE(::write(fds[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fds[1]);
  const auto out = read_stdin_from(fds[0], 10);
  ::close(fds[0]);
  CHECK(out.lines == std::vector<std::string>{"short", "after"});
  CHECK(out.too_long == 1);
}

TEST_CASE("the program may leave while the stdin thread still waits for a line") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  stdin_redirect redirect(fds[0]);
  {
    asio::io_context io;
    console_input input(io.get_executor());
    input.read_stdin();  // waits in read(): nothing has been written yet
  }                      // input and io_context gone; the thread holds no reference to them
  // A line written now is read by the orphaned thread and dropped (under ASan
  // a touch of the destroyed channel would fail the test here).
  REQUIRE(::write(fds[1], "late\n", 5) == 5);
  int unread = 5;
  for (int i = 0; i < 200 && unread > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(::ioctl(fds[0], FIONREAD, &unread) == 0);
  }
  CHECK(unread == 0);
  ::close(fds[1]);
  ::close(fds[0]);
}

TEST_CASE("try_receive takes what is already waiting and never suspends") {
  asio::io_context io;
  console_input input(io.get_executor());
  CHECK_FALSE(input.try_receive().has_value());
  input.push("one");
  input.push_end();
  const auto first = input.try_receive();
  REQUIRE(first.has_value());
  CHECK(*first == std::tuple{error_code{}, std::string("one")});
  const auto second = input.try_receive();
  REQUIRE(second.has_value());
  CHECK(std::get<0>(*second) == asio::error::eof);
  CHECK_FALSE(input.try_receive().has_value());
}

// A console that does not read: 10,000 lines go into a pipe nobody drains
// yet, which holds 64 KiB, through a queue of 4096 bytes. Writing never waits
// for the console (were it to, this test would hang). Then a reader starts,
// and every line is accounted for: received, or counted in a notice.
TEST_CASE("console_output never waits for a console that does not read, and says what it dropped") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
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
      for (long n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) {
        received_text.append(buffer, static_cast<std::size_t>(n));
        if (received_text.ends_with("last\n")) saw_last = true;
      }
    });
    // Once the reader has made room, the next line goes through, after a
    // notice of what was missed.
    while (!saw_last && attempts_at_last < 1000) {
      coronet::write_line(out, "last");
      ++attempts_at_last;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }  // waits until the console has taken what is queued
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);

  std::size_t x_lines = 0, last_lines = 0, missed = 0, notices = 0;
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
