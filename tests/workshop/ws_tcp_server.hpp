// SPDX-License-Identifier: BSL-1.0
// The workshop's tcp_server fixture: the very coroutines main() runs
// (open_listener, serve), on an ephemeral loopback port with a captured
// console, talked to by client coroutines in the same io_context. An
// exercise's tests use only this and the program's public surface
// (server_options, serve), so they compile against the unsolved tree and
// say, as a failure, what is missing.
//
// Nothing here sleeps for a fixed time to let the server act: a test waits
// for the line it expects, up to a generous deadline (time_scale.hpp
// stretches it under valgrind), so it holds under load and under tsan.
#pragma once

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "coronet/awaitable.hpp"
#include "coronet/net.hpp"
#include "tcp_server/server.hpp"
#include "time_scale.hpp"

namespace ws {

namespace asio = boost::asio;
using asio::ip::tcp;
using coronet::use_nothrow_awaitable;
using namespace std::chrono_literals;

// How long a test waits for a line that should come: long enough for a
// loaded machine under tsan, short enough that a missing line fails soon.
inline std::chrono::milliseconds line_deadline() {
  return coronet::testing::hang_deadline(10s);
}

// A server on 127.0.0.1:<ephemeral>. run() drives the test's coroutine
// beside it, then shuts the server down the way main() does (cancelling
// serve()) and runs until nothing is left to do.
struct server_under_test {
  explicit server_under_test(coronet::server_options options, unsigned threads = 1)
      : io(static_cast<int>(threads)), server_executor(io.get_executor()), threads(threads) {
    options.listen = "127.0.0.1";
    options.port = 0;
    options.threads = threads;
    if (threads > 1) server_executor = asio::make_strand(io);
    auto acceptor = coronet::open_listener(io.get_executor(), options, err);
    REQUIRE(acceptor);
    port = acceptor->local_endpoint().port();
    asio::co_spawn(server_executor, coronet::serve(std::move(*acceptor), options, console),
                   asio::bind_cancellation_slot(shutdown.slot(), [this](const std::exception_ptr& e) {
                     served = true;
                     if (e) std::rethrow_exception(e);
                   }));
  }

  void stop_server() {
    asio::dispatch(server_executor, [this] { shutdown.emit(asio::cancellation_type::terminal); });
  }

  // Runs `test`, then the shutdown. `deadline`: how long all of it may take
  // before the run counts as hung.
  void run(asio::awaitable<void> test, std::chrono::milliseconds deadline = 60s) {
    const bool done = run_beside_server(std::move(test), deadline, after_test::stop_server);
    INFO("the server's console (stderr):\n" << err.str());
    REQUIRE(done);
    REQUIRE(served);
  }

  // Runs `test`, which stops the server itself (stop_server()), and then
  // lets the server end on its own: until serve() has returned, or until
  // `deadline`. A test that fails stops the server. Returns whether the test
  // ended; `served` says whether serve() did.
  bool run_to_the_end(asio::awaitable<void> test, std::chrono::milliseconds deadline) {
    return run_beside_server(std::move(test), deadline, after_test::leave_server);
  }

  // After run(): whether the io_context ran out of work, that is, nothing
  // the server started (a timer, a coroutine) was still waiting.
  bool left_nothing_behind() const { return io.stopped(); }

  std::string errors() const { return err.str(); }

  enum class after_test { stop_server, leave_server };

  // Drives `test` and the server on every thread until the io_context runs
  // out of work or `deadline` passes; whether the test ended.
  bool run_beside_server(asio::awaitable<void> test, std::chrono::milliseconds deadline, after_test then) {
    bool done = false;
    asio::co_spawn(asio::make_strand(io), std::move(test), [&, then](const std::exception_ptr& e) {
      done = true;
      if (e || then == after_test::stop_server) stop_server();
      if (e) std::rethrow_exception(e);
    });
    const auto limit = coronet::testing::hang_deadline(deadline);
    std::vector<std::thread> helpers;
    for (unsigned i = 1; i < threads; ++i) helpers.emplace_back([this, limit] { io.run_for(limit); });
    io.run_for(limit);
    for (auto& helper : helpers) helper.join();
    return done;
  }

  asio::io_context io;
  asio::any_io_executor server_executor;
  unsigned threads;
  std::ostringstream out, err;
  coronet::console_input input{server_executor};
  coronet::console console{input, out, err, false};
  asio::cancellation_signal shutdown;
  std::uint16_t port = 0;
  bool served = false;
};

// A test's client: its socket and what it has read past the last line.
struct peer {
  tcp::socket socket;
  std::string buffered;

  // How the server names it: "127.0.0.1:PORT".
  std::string name() const { return coronet::format_endpoint(socket.local_endpoint()); }
};

inline asio::awaitable<peer> connect_to(std::uint16_t port) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect({asio::ip::address_v4::loopback(), port}, asio::use_awaitable);
  co_return peer{std::move(socket), {}};
}

inline asio::awaitable<void> send(peer& p, std::string_view bytes) {
  co_await asio::async_write(p.socket, asio::buffer(bytes), asio::use_awaitable);
}

// What a read brought: a whole line (its LF removed), the end of the
// connection (with what came before it), or nothing before the deadline.
struct reading {
  enum class kind { line, closed, timed_out } what;
  std::string text;
};

inline std::string describe(const reading& r) {
  switch (r.what) {
    case reading::kind::line:
      return "'" + r.text + "'";
    case reading::kind::closed:
      return r.text.empty() ? "the connection closed" : "'" + r.text + "' and the connection closed";
    case reading::kind::timed_out:
      break;
  }
  return "nothing";
}

// The next line, raced against a timer: suspends until one or the other.
inline asio::awaitable<reading> read_line(peer& p, std::chrono::milliseconds deadline = line_deadline()) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  auto result = co_await (
      asio::async_read_until(p.socket, asio::dynamic_buffer(p.buffered), '\n', use_nothrow_awaitable) ||
      timer.async_wait(use_nothrow_awaitable));
  if (result.index() == 1) co_return reading{reading::kind::timed_out, {}};
  auto [ec, n] = std::get<0>(result);
  if (ec) co_return reading{reading::kind::closed, std::exchange(p.buffered, {})};
  std::string text = p.buffered.substr(0, n - 1);
  p.buffered.erase(0, n);
  co_return reading{reading::kind::line, std::move(text)};
}

// The next line that is not a room notice ("* 127.0.0.1:5555 joined").
inline asio::awaitable<reading> read_message(peer& p, std::chrono::milliseconds deadline = line_deadline()) {
  while (true) {
    auto r = co_await read_line(p, deadline);
    if (r.what != reading::kind::line || !r.text.starts_with("* ")) co_return r;
  }
}

// Reads until a line equal to `wanted` (true) or the connection's end or
// the deadline (false), keeping what came before it in `skipped`.
inline asio::awaitable<bool> read_until_line(peer& p, std::string_view wanted,
                                             std::vector<std::string>* skipped,
                                             std::chrono::milliseconds deadline = line_deadline()) {
  while (true) {
    auto r = co_await read_line(p, deadline);
    if (r.what != reading::kind::line) co_return false;
    if (r.text == wanted) co_return true;
    if (skipped) skipped->push_back(std::move(r.text));
  }
}

inline asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(use_nothrow_awaitable);
}

// Room mode with the given options: everyone who joins has been announced
// to the others before the test goes on (so no line is sent to a room that
// does not yet know its listener).
inline coronet::server_options room() {
  coronet::server_options options;
  options.mode = coronet::server_mode::room;
  return options;
}

// Connects `count` clients to a room, one after the other, each waiting
// until the first has seen it join: then every one is in the room.
inline asio::awaitable<std::vector<peer>> join_room(std::uint16_t port, int count) {
  std::vector<peer> peers;
  for (int i = 0; i < count; ++i) {
    peers.push_back(co_await connect_to(port));
    if (i == 0) continue;
    const std::string joined = "* " + peers.back().name() + " joined";
    const bool seen = co_await read_until_line(peers.front(), joined, nullptr);
    REQUIRE(seen);
  }
  co_return peers;
}

// Runs `test` on `count` clients, every one already in a room served with
// `options` (join_room()), then shuts the server down as run() does.
template <typename Test>
void run_in_room(coronet::server_options options, int count, Test test) {
  server_under_test server(std::move(options));
  server.run([](std::uint16_t port, int count, Test& test) -> asio::awaitable<void> {
    auto peers = co_await join_room(port, count);
    co_await test(peers);
  }(server.port, count, test));
}

}  // namespace ws
