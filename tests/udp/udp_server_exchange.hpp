// SPDX-License-Identifier: BSL-1.0
// What the udp_server tests share: the server opened on loopback with an
// ephemeral port, served in-process beside a test body, and a raw test
// socket that sends datagrams and waits for their echoes, sending again
// where UDP lost one.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "support.hpp"
#include "udp_server/udp_server.hpp"

namespace coronet::testing {

using coronet::udp;

// The next datagram on `socket`, or nothing if none comes within `patience`.
asio::awaitable<std::optional<std::string>> receive_within(udp::socket* socket,
                                                           std::chrono::milliseconds patience);

struct server_output {
  watched_output out, err;
};

udp::socket open_test_server(asio::io_context& io, const udp_server_options& options, std::ostream& err);

udp_server_options loopback_server(bool reply = true);

// UDP may drop a datagram or its echo, so a test that expects an answer
// sends again when none comes: only a sender that waits for each answer may
// expect every one. The server then prints each copy that arrived.
constexpr int tries = 5;
constexpr auto patience = 1000ms;  // for an echo that comes at once, unless the datagram was lost

// Sends each payload from `client` until its echo comes, at most `tries`
// times; collects the echo (or nothing: none came, or none was exact) and how
// many times it was sent.
struct exchanges {
  std::vector<std::optional<std::string>> replies;
  std::vector<int> sends;
};

asio::awaitable<void> exchange_each(udp::socket* client, udp::endpoint server,
                                    std::vector<std::string> payloads, exchanges* result);

// Serves until the body is done; the operator then cancels the server.
asio::awaitable<void> serve_while(udp::socket server, udp_server_options options, server_output* output,
                                  asio::awaitable<void> body);

// What the server printed for datagrams sent one after the other, each until
// it was answered: each expected line in turn, once for every copy of its
// datagram that arrived (at least one, at most as many as were sent), and
// nothing else.
void check_printed(const std::string& printed, const std::vector<std::string>& expected,
                   const std::vector<int>& sends);

}  // namespace coronet::testing
