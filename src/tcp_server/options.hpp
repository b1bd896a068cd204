// SPDX-License-Identifier: BSL-1.0
// tcp_server's options: what main() reads from the command line and every
// part of the server reads from here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "coronet/protocol.hpp"

namespace coronet {

enum class server_mode { chat, echo, room };

constexpr std::string_view to_string(server_mode mode) noexcept {
  switch (mode) {
    case server_mode::chat:
      return "chat";
    case server_mode::echo:
      return "echo";
    case server_mode::room:
      return "room";
  }
  return "?";
}

struct server_options {
  std::string listen = "127.0.0.1";
  std::uint16_t port = default_port;
  server_mode mode = server_mode::chat;
  std::size_t max_line = default_max_line;
  std::chrono::milliseconds idle_timeout = default_idle_timeout;  // zero: never
  std::size_t max_connections = default_max_connections;
  std::size_t room_queue = default_room_queue;  // bytes waiting for one client (chat and room)
  // A client whose queue stays over room_queue this long is dropped as not reading.
  std::chrono::milliseconds stall_timeout = std::chrono::seconds(2);
  unsigned threads = 1;  // threads running the io_context
  bool verbose = false;
};

}  // namespace coronet
