// SPDX-License-Identifier: BSL-1.0
// What the tcp_client tests share: client_test, which runs the client's own
// coroutines with scripted typing and captured output against a test server
// on an ephemeral loopback port, and the small test servers, written here as
// coroutines, that each accept one connection.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/console.hpp"
#include "coronet/protocol.hpp"
#include "support.hpp"
#include "tcp_client/client.hpp"

namespace coronet::testing {

using coronet::client_options;
using coronet::tcp;

inline constexpr std::string_view prompt = "SEND (q or Q to quit): ";

tcp::acceptor listen_on_loopback(asio::io_context& io,
                                 const asio::ip::address& address = asio::ip::make_address("127.0.0.1"));

// Bound but not listening: a connection request there is refused.
tcp::acceptor bind_without_listening(asio::io_context& io, const char* address);

client_options options_for(const tcp::acceptor& acceptor);

// Runs the client until it ends (at most a generous functional deadline) and
// returns its exit code, nothing if it did not end.
std::optional<int> run_client(asio::io_context& io, client_options options, coronet::console con);

// A client test: the client's console, a loopback port for the test server
// and the client's options pointing at it.
struct client_test {
  explicit client_test(bool interactive = false, std::size_t max_line = coronet::default_max_line);

  // Starts the test server beside the client.
  void serve(asio::awaitable<void> server);
  // The operator types `lines`, one after the other.
  void type(const std::vector<std::string>& lines);
  // Runs the client to its end; its exit code.
  std::optional<int> run();

  asio::io_context io;
  scripted_console console;
  tcp::acceptor acceptor;
  client_options options;
};

// --- test servers: each accepts one connection -----------------------------

// Echoes bytes until the client half-closes, then says "bye" and closes: the
// "bye" reaches the client only if it keeps reading after its end of input.
asio::awaitable<void> echo_then_bye(tcp::acceptor acceptor);

// Sends `text`, then keeps the connection open until the client closes it.
asio::awaitable<void> send_and_wait(tcp::acceptor acceptor, std::string text);

// Sends `text` and closes.
asio::awaitable<void> send_and_close(tcp::acceptor acceptor, std::string text);

// Never answers: keeps what the client sends until the client closes.
// `received` is a pointer: the string must outlive this coroutine, which
// suspends in every read.
asio::awaitable<void> record_silently(tcp::acceptor acceptor, std::string* received);

}  // namespace coronet::testing
