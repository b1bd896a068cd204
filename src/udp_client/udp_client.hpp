// SPDX-License-Identifier: BSL-1.0
// udp_client: the seed's UDP client, which sends every typed line as one
// datagram, plus what it lacked: it waits for the echo, resends after a
// timeout, and says when nobody answers. main() only reads the command line;
// the tests drive run_udp_client() in-process.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "coronet/console.hpp"
#include "coronet/protocol.hpp"

namespace coronet {

using asio::ip::udp;

struct udp_client_options {
  std::string host = "localhost";
  std::uint16_t port = default_port;
  std::chrono::milliseconds timeout = default_udp_timeout;  // for each try
  int retries = default_udp_retries;                        // resends after the first try
  bool wait_for_reply = true;                               // false: fire and forget, like the seed
  bool verbose = false;
};

// Sends each line from console.input as one datagram until 'q', 'Q' or the
// end of input, waiting for each echo unless told not to. Returns the exit
// code: 0 when every line was answered (or none was waited for), 1 when one
// was not, could not be sent, or nobody listens.
asio::awaitable<int> run_udp_client(udp_client_options options, console con);

// The same, once the name is resolved: sends to the first of `servers`, and
// while none has answered, goes on to the next one that does not refuse
// (the ICMP that says nobody listens there). Not empty.
asio::awaitable<int> send_lines(std::vector<udp::endpoint> servers, udp_client_options options, console con);

}  // namespace coronet
