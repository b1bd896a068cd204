// SPDX-License-Identifier: BSL-1.0
// What every in-process test needs, written once: running a test coroutine so
// that a failed REQUIRE inside it fails the test, pointing stdin at a pipe or
// a file, an output stream a test can wait on, tcp_server started on loopback
// in a given mode, and a client that talks to it line by line.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coronet/awaitable.hpp"
#include "coronet/console.hpp"
#include "tcp_server/options.hpp"
#include "time_scale.hpp"

namespace coronet::testing {

using asio::ip::tcp;
using coronet::server_mode;
using coronet::server_options;
using coronet::use_nothrow_awaitable;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Running coroutines
// ---------------------------------------------------------------------------

// The completion of every co_spawn in the tests: an exception (a failed
// REQUIRE included) comes out of io_context::run() into Catch2, never lost.
void rethrow(const std::exception_ptr& e);

// co_spawn with that completion; `done` (if given) is set when it ends.
void spawn(asio::io_context& io, asio::awaitable<void> work, bool* done = nullptr);
void spawn(const asio::any_io_executor& executor, asio::awaitable<void> work, bool* done = nullptr);

// Runs `body` on `io` to its end, at most a hang deadline, and fails the test
// if it did not end.
void run(asio::io_context& io, asio::awaitable<void> body,
         std::chrono::milliseconds deadline = hang_deadline(20s));

// Suspends this coroutine for `duration`.
asio::awaitable<void> sleep_for(std::chrono::milliseconds duration);

bool contains(std::string_view text, std::string_view part);
// The lines of `text`, without their LFs.
std::vector<std::string> lines_of(const std::string& text);

// A UDP socket on 127.0.0.1:<ephemeral>.
asio::ip::udp::socket bind_loopback(asio::io_context& io);

// ---------------------------------------------------------------------------
// Consoles
// ---------------------------------------------------------------------------

// Points this process's stdin at fd for the test's duration.
class stdin_redirect {
 public:
  explicit stdin_redirect(int fd);
  ~stdin_redirect();
  stdin_redirect(const stdin_redirect&) = delete;
  stdin_redirect& operator=(const stdin_redirect&) = delete;
  stdin_redirect(stdin_redirect&&) = delete;
  stdin_redirect& operator=(stdin_redirect&&) = delete;

 private:
  int saved_;
};

// An output stream (a program's stdout or stderr) that a test coroutine can
// wait on: wait_for(text) suspends until `text` has been written, woken by
// the write itself instead of polling. Safe to write from another thread
// (tcp_server on two threads) while a test reads it.
class watched_output : public std::ostream {
 public:
  watched_output();
  ~watched_output() override;
  watched_output(const watched_output&) = delete;
  watched_output& operator=(const watched_output&) = delete;
  watched_output(watched_output&&) = delete;
  watched_output& operator=(watched_output&&) = delete;

  // Everything written so far.
  [[nodiscard]] std::string str() const;
  [[nodiscard]] bool contains(std::string_view part) const;

  // Suspends until `part` has been written; false if it was not within `patience`.
  asio::awaitable<bool> wait_for(std::string text, std::chrono::milliseconds patience);
  // The same, for what must come: past a hang deadline the test fails.
  asio::awaitable<void> expect(std::string text);

 private:
  class buffer;
  std::unique_ptr<buffer> buffer_;
};

// The console a test types into (input.push) and reads (out, err).
struct scripted_console {
  explicit scripted_console(const asio::any_io_executor& executor, bool interactive = false,
                            std::size_t max_line = default_max_line);
  watched_output out;
  watched_output err;
  console_input input;
  console con;
};

// ---------------------------------------------------------------------------
// tcp_server, in-process
// ---------------------------------------------------------------------------

server_options options_for(server_mode mode);

// tcp_server on 127.0.0.1:<ephemeral> with a scripted console, the very
// serve() main runs. run() drives a test coroutine next to it, then shuts the
// server down the way main does (cancelling serve()) and checks that serve()
// returned.
class test_server {
 public:
  explicit test_server(server_options options, unsigned threads = 1);
  ~test_server();
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;
  test_server(test_server&&) = delete;
  test_server& operator=(test_server&&) = delete;

  // Runs `test` (on a strand of its own) and serve() until both have ended;
  // with `stop_after`, the test's end shuts the server down, otherwise the
  // test does (stop_server()).
  void run(asio::awaitable<void> test, bool stop_after = true);
  // What main does on SIGINT: cancels serve(), from any thread.
  void stop_server();

  [[nodiscard]] std::string output() const { return console_.out.str(); }
  [[nodiscard]] std::string errors() const { return console_.err.str(); }
  // Suspends until the server has printed `text` to stdout / to stderr.
  asio::awaitable<void> expect_output(std::string text) { return console_.out.expect(std::move(text)); }
  asio::awaitable<void> expect_errors(std::string text) { return console_.err.expect(std::move(text)); }
  // The operator's typing (chat mode).
  console_input& input() { return console_.input; }

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] server_mode mode() const { return mode_; }

 private:
  asio::io_context io_;
  asio::any_io_executor server_executor_;
  unsigned threads_;
  server_mode mode_;
  scripted_console console_;
  asio::cancellation_signal shutdown_;
  std::uint16_t port_ = 0;
  bool served_ = false;
};

// More than the server's send buffer for a client that does not read can
// grow to. That is at most the third figure of Linux's tcp_wmem (4 MiB by
// default); twice it, or 8 MiB where it cannot be read.
std::size_t larger_than_socket_buffers();

// Each test that calls it runs once in every mode.
inline server_mode any_mode() {
  return GENERATE(server_mode::chat, server_mode::echo, server_mode::room);
}

// ---------------------------------------------------------------------------
// A client, line by line
// ---------------------------------------------------------------------------

// A test's client: a socket and what it has read past the last line. Its
// coroutines are members: the test that awaits them owns the peer.
struct peer {
  tcp::socket socket;
  std::string buffered;

  [[nodiscard]] std::string name() const;

  asio::awaitable<void> send(std::string bytes);
  // The next line with its LF, or what came before EOF ("" at a clean EOF).
  asio::awaitable<std::string> read_line();
  // The next line that is not a notice ("* ... joined", "* ... left").
  asio::awaitable<std::string> read_line_skipping_notices();
  // Everything until the server closes the connection.
  asio::awaitable<std::string> read_to_end();
  // Reads and checks; the co_await stays outside the CHECK macro (GCC 12).
  asio::awaitable<void> expect_line(std::string expected);
  asio::awaitable<void> expect_end(std::string expected);
};

asio::awaitable<peer> connect_to(std::uint16_t port);
// `count` clients, connected one after the other.
asio::awaitable<std::vector<peer>> connect_clients(std::uint16_t port, std::size_t count);
// A client, once the server has said that it connected.
asio::awaitable<peer> connect_announced(test_server* server);
// Sends `line` (with its LF) and reads it back.
asio::awaitable<void> expect_echo(peer* p, std::string line);

// A test that is given the server and one client connected to it.
using test_with_client = asio::awaitable<void> (*)(test_server* server, peer client);
// Runs `test` beside a test_server with `options` (on `threads`), on one client.
void run_with_client(server_options options, test_with_client test);
void run_with_client(server_options options, unsigned threads, test_with_client test);
// The same on two clients, connected one after the other.
using test_with_two_clients = asio::awaitable<void> (*)(test_server* server, peer a, peer b);
void run_with_two_clients(server_options options, test_with_two_clients test);

// Three clients of one room, in the order they connect: one that will not
// read (its receive buffer kept small, so the server's queue for it fills
// first), one that reads, one that sends. Suspends until the reader has seen
// the sender join.
struct slow_room {
  peer sleeper, reader, sender;
};
asio::awaitable<slow_room> open_slow_room(std::uint16_t port);

// The coroutines below take pointers: what they point to belongs to the test
// coroutine that awaits them, and outlives them.
// What `p` receives until the server closes it is `expected`, once what a
// room relays to everyone (notices, others' lines) is left out in room mode.
asio::awaitable<void> expect_end_in_mode(const test_server* server, peer* p, std::string expected);

// `p` is still served, as its mode serves it: its line (`text` and `ending`)
// comes back (echo), reaches the operator's stdout (chat) or reaches `other`
// (room), as "<P> text".
asio::awaitable<void> expect_served(test_server* server, peer* p, peer* other, std::string text,
                                    std::string_view ending = "\n");

}  // namespace coronet::testing
