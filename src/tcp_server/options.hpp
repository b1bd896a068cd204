// SPDX-License-Identifier: BSL-1.0
// tcp_server's options: what main() reads from the command line and every
// part of the server reads from here.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "coronet/protocol.hpp"

namespace coronet {

enum class server_mode { chat, echo, room };

// The modes by name: the one list that the command line (--mode) and the
// messages ("listening on ... (chat)") both read.
inline constexpr std::array<std::pair<std::string_view, server_mode>, 3> server_modes{{
    {"chat", server_mode::chat},
    {"echo", server_mode::echo},
    {"room", server_mode::room},
}};

constexpr std::string_view to_string(server_mode mode) noexcept {
  for (const auto& [name, each] : server_modes)
    if (each == mode) return name;
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
