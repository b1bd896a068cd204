// SPDX-License-Identifier: BSL-1.0
// The server's coroutines, one file each, started by serve() (server.cpp)
// and by accept_clients() for every connection.
#pragma once

#include <memory>

#include "coronet/awaitable.hpp"
#include "tcp_server/client.hpp"
#include "tcp_server/server_state.hpp"

namespace coronet {

// echo_session.cpp: an echo connection's whole life.
asio::awaitable<void> echo_lines(std::shared_ptr<client> c, const server* s);

// line_sessions.cpp: a chat or room connection's life, a reader and a writer.
asio::awaitable<void> read_and_write_lines(std::shared_ptr<client> c, server* s);

// accept.cpp: takes clients in until cancelled.
asio::awaitable<void> accept_clients(tcp::acceptor* acceptor, server* s);

// watchdog.cpp: closes idle clients and drops those that do not read, until cancelled.
asio::awaitable<void> watch_clients(server* s);

// operator_console.cpp: chat mode, the operator's lines to every client, until cancelled.
asio::awaitable<void> relay_operator_lines(server* s);

}  // namespace coronet
