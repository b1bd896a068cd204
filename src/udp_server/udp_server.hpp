// SPDX-License-Identifier: BSL-1.0
// udp_server: the seed's UDP server as an awaitable coroutine. It prints every
// datagram as "(ADDR PORT) said: TEXT" and, unless told not to, sends the same
// bytes back. main() only reads the command line; the tests drive these same
// functions in-process.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/udp.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "coronet/awaitable.hpp"
#include "coronet/protocol.hpp"

namespace coronet {

using asio::ip::udp;

struct udp_server_options {
  std::string listen = "127.0.0.1";
  std::uint16_t port = default_port;
  bool reply = true;  // false: only print, like the seed's server
  bool verbose = false;
};

// Opens and binds the socket. On failure: nothing, and one line on `err`
// naming the address and the reason. On success: "listening on ADDR:PORT (udp)"
// on `err` (and the warning when the address reaches other machines).
std::optional<udp::socket> open_udp_server(const asio::any_io_executor& executor,
                                           const udp_server_options& options, std::ostream& err);

// Receives datagrams until the caller cancels it (main does that on SIGINT or
// SIGTERM): one line on `out` for each, then the echo. Nothing a sender does
// ends it; a failed receive or reply is reported on `err` and the loop goes on.
// The streams outlive it. (They come as pointers: a coroutine's reference
// parameter is easily left dangling after its first suspension, so no
// coroutine here takes one.)
asio::awaitable<void> serve_datagrams(udp::socket socket, udp_server_options options, std::ostream* out,
                                      std::ostream* err);

}  // namespace coronet
