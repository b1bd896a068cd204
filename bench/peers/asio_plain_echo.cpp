// SPDX-License-Identifier: BSL-1.0
// asio_plain_echo: the plain Asio C++20 coroutine line echo, written the way
// a learner writes it first: one coroutine per connection that reads a line
// with async_read_until into an asio::streambuf and writes it back with one
// async_write. It is the first rung of the ladder of speed tricks that
// docs/walkthrough.md climbs to tcp_server; the benchmark measures every rung
// above it against this one. A bench peer, not one of coronet's programs: it
// uses Asio alone (no coronet library), and has no line limit or timeout.
//
//   build/release/bin/asio_plain_echo --port 5000   (prints "listening on 127.0.0.1:5000" on stderr)
//   printf 'one\ntwo\n' | nc -N 127.0.0.1 5000     (from a second terminal)
#include <boost/asio.hpp>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <utility>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto as_value = asio::as_tuple(asio::use_awaitable);

// Suspends in the read until a whole line is buffered, then in the write
// until the kernel took it. EOF and resets end the loop as values.
asio::awaitable<void> echo(tcp::socket socket) {
  asio::streambuf buffer;
  for (;;) {
    auto [read_error, line_size] = co_await asio::async_read_until(socket, buffer, '\n', as_value);
    if (read_error) co_return;
    auto [write_error, written] =
        co_await asio::async_write(socket, asio::buffer(buffer.data(), line_size), as_value);
    if (write_error) co_return;
    buffer.consume(line_size);
  }
}

void report(const std::exception_ptr& error) {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::cerr << "asio_plain_echo: " << e.what() << '\n';
  }
}

asio::awaitable<void> listener(tcp::acceptor acceptor) {
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(as_value);
    if (error) continue;  // out of descriptors, say: the next accept may work
    // Without it Nagle holds each line after the first until the client's
    // delayed ACK: 40 ms a pipelined batch. Go and asyncio set it by default.
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), echo(std::move(socket)), report);
  }
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 1 && (argc != 3 || std::strcmp(argv[1], "--port") != 0)) {
    std::cerr << "usage: asio_plain_echo [--port PORT]   (0 picks a free port)\n";
    return 2;
  }
  const auto port = static_cast<unsigned short>(argc == 3 ? std::atoi(argv[2]) : 5000);
  asio::io_context io(1);
  tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), port});
  std::cerr << "listening on 127.0.0.1:" << acceptor.local_endpoint().port() << '\n';  // cerr: unbuffered
  asio::co_spawn(io, listener(std::move(acceptor)), report);
  io.run();
} catch (const std::exception& e) {
  // The port is taken, say: the same report as a connection's exception.
  std::cerr << "asio_plain_echo: " << e.what() << '\n';
  return 1;
}
