// SPDX-License-Identifier: BSL-1.0
// tcp_server: the seed's TCP conversation for every client at once, as
// awaitable coroutines (chat, echo and room modes). main() reads the command
// line and runs serve(); the tests drive these same functions in-process.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <optional>
#include <ostream>

#include "coronet/awaitable.hpp"
#include "coronet/console.hpp"
#include "tcp_server/options.hpp"

namespace coronet {

using asio::ip::tcp;

// Binds and listens. On failure: nothing, and one line on `err` naming the
// address and the reason. On success: the "listening on ADDR:PORT (MODE)" line
// (and the warning when the address reaches other machines).
std::optional<tcp::acceptor> open_listener(const asio::any_io_executor& executor,
                                           const server_options& options, std::ostream& err);

// Serves clients until the caller cancels it (main does that on SIGINT or
// SIGTERM): then it tells every client "server shutting down", closes them
// and returns once they are gone. Runs on the executor of what the
// connections share (a strand when there are several threads); the
// acceptor's executor is the io_context's. In chat mode it relays the lines
// typed at console.input. The console's streams must outlive it.
asio::awaitable<void> serve(tcp::acceptor acceptor, server_options options, console con);

}  // namespace coronet
