// tcp_server: the seed's TCP conversation for every client at once, as
// awaitable coroutines (chat, echo and room modes). main() only reads the
// command line; the tests drive these same functions in-process.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "coronet/console.hpp"
#include "coronet/protocol.hpp"

namespace coronet {

using asio::ip::tcp;

enum class server_mode { chat, echo, room };

std::string_view to_string(server_mode mode) noexcept;

struct server_options {
  std::string listen = "127.0.0.1";
  std::uint16_t port = default_port;
  server_mode mode = server_mode::chat;
  std::size_t max_line = default_max_line;
  std::chrono::milliseconds idle_timeout = default_idle_timeout;  // zero: never
  std::size_t max_connections = default_max_connections;
  std::size_t room_queue = default_room_queue;  // bytes waiting for one room client
  // A client whose queue stays over room_queue this long is dropped as not reading.
  std::chrono::milliseconds stall_timeout = std::chrono::seconds(2);
  unsigned threads = 1;  // threads running the io_context
  bool verbose = false;
};

// Binds and listens. On failure: nothing, and one line on `err` naming the
// address and the reason. On success: the "listening on ADDR:PORT (MODE)" line
// (and the warning when the address reaches other machines).
std::optional<tcp::acceptor> open_listener(const asio::any_io_executor& executor,
                                           const server_options& options, std::ostream& err);

// Serves clients until the caller cancels it (main does that on SIGINT or
// SIGTERM): then it tells every client "server shutting down", closes them
// and returns once they are gone. `executor` runs what the connections share
// (a strand when there are several threads); the acceptor's executor must be it.
// In chat mode it relays the lines typed at console.input.
asio::awaitable<void> serve(tcp::acceptor acceptor, server_options options, console& console);

}  // namespace coronet
