// SPDX-License-Identifier: BSL-1.0
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

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <fstream>
#include <ios>
#include <memory>
#include <mutex>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "coronet/net.hpp"
#include "posix_io.hpp"
#include "tcp_server/options.hpp"
#include "tcp_server/server.hpp"
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

// ---------------------------------------------------------------------------

server_options options_for(server_mode mode) {
  server_options options;
  options.mode = mode;
  return options;
}

std::size_t larger_than_socket_buffers() {
  std::ifstream tcp_wmem("/proc/sys/net/ipv4/tcp_wmem");
  std::size_t least = 0;
  std::size_t initial = 0;
  std::size_t most = 0;
  if (tcp_wmem >> least >> initial >> most) return 2 * most;
  return std::size_t{8} << 20;
}

namespace {

asio::any_io_executor executor_for(asio::io_context& io, unsigned threads) {
  if (threads > 1) return asio::make_strand(io);
  return io.get_executor();
}

}  // namespace

test_server::test_server(server_options options, unsigned threads)
    : io_(static_cast<int>(threads)),
      server_executor_(executor_for(io_, threads)),
      threads_(threads),
      mode_(options.mode),
      console_(server_executor_) {
  options.port = 0;
  options.threads = threads;
  auto acceptor = open_listener(io_.get_executor(), options, console_.err);
  REQUIRE(acceptor);
  if (!acceptor) return;  // not reached (REQUIRE throws); tells the optional-access check
  port_ = acceptor->local_endpoint().port();
  asio::co_spawn(server_executor_, serve(*std::move(acceptor), options, console_.con),
                 asio::bind_cancellation_slot(shutdown_.slot(), [this](const std::exception_ptr& e) {
                   served_ = true;
                   rethrow(e);
                 }));
}

test_server::~test_server() = default;

void test_server::stop_server() {
  asio::dispatch(server_executor_, [this] { shutdown_.emit(asio::cancellation_type::terminal); });
}

void test_server::run(asio::awaitable<void> test, bool stop_after) {
  INFO("mode: " << to_string(mode_));
  bool done = false;
  asio::co_spawn(asio::make_strand(io_), std::move(test), [&, stop_after](const std::exception_ptr& e) {
    done = true;
    if (stop_after || e) stop_server();
    rethrow(e);
  });
  const auto deadline = hang_deadline(20s);
  std::vector<std::thread> helpers;
  for (unsigned i = 1; i < threads_; ++i) helpers.emplace_back([this, deadline] { io_.run_for(deadline); });
  io_.run_for(deadline);
  for (auto& helper : helpers) helper.join();
  INFO(errors());
  REQUIRE(done);
  REQUIRE(served_);
}

// ---------------------------------------------------------------------------

std::string peer::name() const {
  return format_endpoint(socket.local_endpoint());
}

asio::awaitable<peer> connect_to(std::uint16_t port) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect({asio::ip::address_v4::loopback(), port}, asio::use_awaitable);
  co_return peer{.socket = std::move(socket), .buffered = {}};
}

asio::awaitable<slow_room> open_slow_room(std::uint16_t port) {
  auto sleeper = co_await connect_to(port);
  sleeper.socket.set_option(asio::socket_base::receive_buffer_size(4096));
  auto reader = co_await connect_to(port);
  auto sender = co_await connect_to(port);
  co_await reader.expect_line("* " + sender.name() + " joined\n");
  co_return slow_room{
      .sleeper = std::move(sleeper), .reader = std::move(reader), .sender = std::move(sender)};
}

asio::awaitable<void> peer::send(std::string bytes) {
  co_await asio::async_write(socket, asio::buffer(bytes), asio::use_awaitable);
}

asio::awaitable<std::string> peer::read_line() {
  auto [ec, n] =
      co_await asio::async_read_until(socket, asio::dynamic_buffer(buffered), '\n', use_nothrow_awaitable);
  if (ec) n = buffered.size();
  std::string line = buffered.substr(0, n);
  buffered.erase(0, n);
  co_return line;
}

asio::awaitable<std::string> peer::read_line_skipping_notices() {
  std::string line = co_await read_line();
  while (line.starts_with("* ")) line = co_await read_line();
  co_return line;
}

asio::awaitable<std::string> peer::read_to_end() {
  auto [ec, n] = co_await asio::async_read(socket, asio::dynamic_buffer(buffered), use_nothrow_awaitable);
  CHECK((ec == asio::error::eof || ec == asio::error::connection_reset));
  co_return std::exchange(buffered, {});
}

asio::awaitable<void> peer::expect_line(std::string expected) {
  const std::string got = co_await read_line();
  CHECK(got == expected);
}

asio::awaitable<void> peer::expect_end(std::string expected) {
  const std::string got = co_await read_to_end();
  CHECK(got == expected);
}

asio::awaitable<void> expect_end_in_mode(const test_server* server, peer* p, std::string expected) {
  const std::string got = co_await p->read_to_end();
  std::string kept;
  for (std::size_t at = 0; at < got.size();) {
    const std::size_t end = std::min(got.find('\n', at), got.size() - 1) + 1;
    const bool relayed = got.compare(at, 2, "* ") == 0 || got.compare(at, 1, "<") == 0;
    if (server->mode() != server_mode::room || !relayed) kept.append(got, at, end - at);
    at = end;
  }
  INFO("received: " << got);
  CHECK(kept == expected);
}

asio::awaitable<void> expect_served(test_server* server, peer* p, peer* other, std::string text,
                                    std::string_view ending) {
  co_await p->send(text + std::string(ending));
  // Piece by piece: GCC 12 at -O3 takes "<" + name + ... for an overlapping copy (-Wrestrict).
  std::string shown = "<";
  shown += p->name();
  shown += "> ";
  shown += text;
  shown += '\n';
  switch (server->mode()) {
    case server_mode::echo:
      co_await p->expect_line(text + std::string(ending));
      break;
    case server_mode::chat:
      co_await server->expect_output(shown);
      break;
    case server_mode::room: {
      const std::string got = co_await other->read_line_skipping_notices();
      CHECK(got == shown);
      break;
    }
  }
}

}  // namespace coronet::testing
