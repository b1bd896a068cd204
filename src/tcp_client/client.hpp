// SPDX-License-Identifier: BSL-1.0
// tcp_client: the coroutines of the TCP client, driven by main.cpp and,
// in-process, by the tests.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "coronet/awaitable.hpp"
#include "coronet/console.hpp"
#include "coronet/protocol.hpp"

namespace coronet {

using asio::ip::tcp;

struct client_options {
  std::string host = "localhost";
  std::uint16_t port = default_port;
  std::chrono::milliseconds connect_timeout = default_connect_timeout;  // for each address tried
  std::size_t max_line = default_max_line;  // longest line received (typed lines: console_input)
  bool verbose = false;                     // report each address tried on stderr
};

// A line editor that owns the terminal (line_editor.hpp), as the
// conversation uses it: start() shows the prompt and begins reading typed
// lines into the console's input; show_above() prints a received line or a
// report (`diagnostic`: on stderr) above the line being typed. Empty: the
// plain console, which prompts and prints itself.
struct typed_line_editor {
  std::function<void()> start;
  std::function<void(std::string_view text, bool diagnostic)> show_above;
  explicit operator bool() const noexcept { return static_cast<bool>(start); }
};

// The console is passed by value (it is a handful of references): its input and
// streams must outlive the coroutines.

// Connects to the first of `endpoints` that accepts within `timeout`, trying
// them in order. On failure the error is the last address's reason
// (asio::error::timed_out when it did not answer in time).
asio::awaitable<std::tuple<error_code, tcp::socket>> connect_to_first(std::vector<tcp::endpoint> endpoints,
                                                                      std::chrono::milliseconds timeout,
                                                                      console con, bool verbose);

// The conversation on a connected socket, both directions at once, until the
// operator types q, the server sends q, or the server closes. The exit code.
asio::awaitable<int> converse(tcp::socket socket, console con, std::size_t max_line,
                              typed_line_editor editor = {});

// The whole client: resolve, connect, converse. The exit code: 0 when the
// conversation ended normally, 1 when it could not start or broke.
asio::awaitable<int> run_client(client_options options, console con, typed_line_editor editor = {});

}  // namespace coronet
