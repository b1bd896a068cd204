// SPDX-License-Identifier: BSL-1.0
// What chat and room sessions offer the rest of the server.
#pragma once

#include "tcp_server/client.hpp"
#include "tcp_server/server_state.hpp"

namespace coronet {

// Queues `line` for every client but `except` (after it, with `close_after`,
// each session ends once its queue is sent). Runs on the server's executor.
void send_to_clients(server* s, const shared_line& line, const client* except = nullptr,
                     bool close_after = false);

}  // namespace coronet
