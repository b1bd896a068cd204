// SPDX-License-Identifier: BSL-1.0
// tcp_server in-process and its line-by-line clients (support.hpp).
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
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "coronet/net.hpp"
#include "tcp_server/options.hpp"
#include "tcp_server/server.hpp"
#include "time_scale.hpp"

namespace coronet::testing {
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

asio::awaitable<void> expect_echo(peer* p, std::string line) {
  co_await p->send(line);
  co_await p->expect_line(line);
}

asio::awaitable<peer> connect_announced(test_server* server) {
  auto p = co_await connect_to(server->port());
  co_await server->expect_errors(p.name() + " connected");
  co_return p;
}

asio::awaitable<std::vector<peer>> connect_clients(std::uint16_t port, std::size_t count) {
  std::vector<peer> clients;
  clients.reserve(count);
  for (std::size_t i = 0; i < count; ++i) clients.push_back(co_await connect_to(port));
  co_return clients;
}

namespace {

asio::awaitable<void> connect_then(test_server* server, test_with_client test) {
  auto client = co_await connect_to(server->port());
  co_await test(server, std::move(client));
}

asio::awaitable<void> connect_two_then(test_server* server, test_with_two_clients test) {
  auto a = co_await connect_to(server->port());
  auto b = co_await connect_to(server->port());
  co_await test(server, std::move(a), std::move(b));
}

}  // namespace

void run_with_client(server_options options, test_with_client test) {
  run_with_client(std::move(options), 1, test);
}

void run_with_client(server_options options, unsigned threads, test_with_client test) {
  test_server server(std::move(options), threads);
  server.run(connect_then(&server, test));
}

void run_with_two_clients(server_options options, test_with_two_clients test) {
  test_server server(std::move(options));
  server.run(connect_two_then(&server, test));
}

}  // namespace coronet::testing
