// SPDX-License-Identifier: BSL-1.0
// What the udp_client tests share: small test servers that echo, drop, hold
// back or never answer, and udp_exchange, which runs the client in-process
// on loopback against one of them on scripted lines.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "coronet/console.hpp"
#include "support.hpp"
#include "udp_client/udp_client.hpp"

namespace coronet::testing {

using coronet::udp;

// What a terminal shows once the client's prompts are taken out, and how many there were.
std::pair<std::string, std::size_t> without_prompts(std::string text);

// Whether `part` is `whole` with some of it left out, in the same order.
bool is_subsequence(const std::vector<std::string>& part, const std::vector<std::string>& whole);

// --- test servers ----------------------------------------------------------

// Ignores the first `drop` datagrams, echoes the rest, counts all.
// `received` is a pointer: the count must outlive this coroutine, which
// suspends in every receive.
asio::awaitable<void> echo_after_dropping(udp::socket socket, int drop, int* received);

// Holds back the echo of the first datagram until the second one arrives,
// then sends both echoes: the first is late.
asio::awaitable<void> hold_first_echo(udp::socket socket);

// Stands in for a server that never answers: waits until cancelled.
asio::awaitable<void> stay_silent();

// What has arrived at `socket` and not been read yet, without waiting.
std::vector<std::string> queued_datagrams(udp::socket& socket);

// --- the client --------------------------------------------------------------

struct client_result {
  int exit_code = -1;
  std::string out, err;
};

// Runs the client until it returns; the test server runs beside it and is
// cancelled then.
asio::awaitable<void> client_beside(udp_client_options options, console con, asio::awaitable<void> server,
                                    int* exit_code);

// A udp_client test: a test server's socket on 127.0.0.1:<ephemeral> and
// the client's options pointing at it (a 100 ms timeout), for a test to change
// before it runs the client.
struct udp_exchange {
  udp_exchange();

  // Runs the client on `lines` (then the end of input, if `end`) against
  // `test_server` until it returns.
  client_result run_against(const std::vector<std::string>& lines, asio::awaitable<void> test_server,
                            bool interactive = false, bool end = true);
  // The same against echo_after_dropping(server, drop, &received).
  client_result echo(const std::vector<std::string>& lines, int drop = 0, bool interactive = false,
                     bool end = true);

  asio::io_context io;
  udp::socket server;
  std::string port;  // the server's, as the client's messages show it
  udp_client_options options;
  int received = 0;  // datagrams that reached echo()'s server
};

}  // namespace coronet::testing
