// SPDX-License-Identifier: BSL-1.0
// What every in-process test shares (support.hpp): running coroutines, the
// stdin redirect, watched output, the scripted console. tcp_server's
// fixtures: support_tcp_server.cpp.
#include "support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch_message.hpp>
#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <ios>
#include <memory>
#include <mutex>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "posix_io.hpp"
#include "time_scale.hpp"

namespace coronet::testing {

void rethrow(const std::exception_ptr& e) {
  if (e) std::rethrow_exception(e);
}

void spawn(const asio::any_io_executor& executor, asio::awaitable<void> work, bool* done) {
  asio::co_spawn(executor, std::move(work), [done](const std::exception_ptr& e) {
    if (done != nullptr) *done = true;
    rethrow(e);
  });
}

void spawn(asio::io_context& io, asio::awaitable<void> work, bool* done) {
  spawn(io.get_executor(), std::move(work), done);
}

void run(asio::io_context& io, asio::awaitable<void> body, std::chrono::milliseconds deadline) {
  bool done = false;
  spawn(io, std::move(body), &done);
  io.run_for(deadline);
  REQUIRE(done);
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

asio::ip::udp::socket bind_loopback(asio::io_context& io) {
  return {io, asio::ip::udp::endpoint(asio::ip::address_v4::loopback(), 0)};
}

// ---------------------------------------------------------------------------

stdin_redirect::stdin_redirect(int fd) : saved_(posix::dup(0)) {
  posix::dup2(fd, 0);
}

stdin_redirect::~stdin_redirect() {
  posix::dup2(saved_, 0);
  posix::close(saved_);
}

// Every byte goes through overflow() or xsputn() (there is no put area), so
// each write reaches the waiters: each waits on a timer of its own, which a
// write cancels on the waiter's executor.
class watched_output::buffer : public std::streambuf {
 public:
  std::string text() const {
    const std::lock_guard lock(mutex_);
    return text_;
  }

  // Whether `part` is there; if not, `timer` is woken by the next write.
  bool contains_or_watch(std::string_view part, const std::shared_ptr<asio::steady_timer>& timer) {
    const std::lock_guard lock(mutex_);
    if (testing::contains(text_, part)) return true;
    waiters_.push_back(timer);
    return false;
  }

 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char byte = traits_type::to_char_type(c);
    append({&byte, 1});
    return c;
  }

  std::streamsize xsputn(const char* data, std::streamsize size) override {
    append({data, static_cast<std::size_t>(size)});
    return size;
  }

 private:
  void append(std::string_view bytes) {
    std::vector<std::weak_ptr<asio::steady_timer>> woken;
    {
      const std::lock_guard lock(mutex_);
      text_.append(bytes);
      woken.swap(waiters_);
    }
    for (auto& waiter : woken) {
      if (auto timer = waiter.lock()) {
        asio::post(timer->get_executor(), [waiter] {
          if (auto t = waiter.lock()) t->cancel();
        });
      }
    }
  }

  mutable std::mutex mutex_;
  std::string text_;
  std::vector<std::weak_ptr<asio::steady_timer>> waiters_;
};

watched_output::watched_output() : std::ostream(nullptr), buffer_(std::make_unique<buffer>()) {
  rdbuf(buffer_.get());
}

watched_output::~watched_output() = default;

std::string watched_output::str() const {
  return buffer_->text();
}

bool watched_output::contains(std::string_view part) const {
  return testing::contains(buffer_->text(), part);
}

asio::awaitable<bool> watched_output::wait_for(std::string text, std::chrono::milliseconds patience) {
  const auto give_up = std::chrono::steady_clock::now() + patience;
  auto timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor, give_up);
  // Suspends until a write (which cancels the timer) or the time is up.
  while (!buffer_->contains_or_watch(text, timer)) {
    if (std::chrono::steady_clock::now() >= give_up) co_return false;
    co_await timer->async_wait(use_nothrow_awaitable);
  }
  co_return true;
}

asio::awaitable<void> watched_output::expect(std::string text) {
  const bool written = co_await wait_for(text, hang_deadline(5s));
  INFO("waited for: " << text << "\nwritten: " << str());
  REQUIRE(written);
}

scripted_console::scripted_console(const asio::any_io_executor& executor, bool interactive,
                                   std::size_t max_line)
    : input(executor, max_line), con{.input = input, .out = out, .err = err, .interactive = interactive} {}

}  // namespace coronet::testing
