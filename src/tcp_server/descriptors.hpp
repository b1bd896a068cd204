// SPDX-License-Identifier: BSL-1.0
// Out of descriptors (EMFILE, ENFILE: `ulimit -n` reached): the server cannot
// take a new connection, which then waits in the listen queue while the
// listening socket stays ready. The server keeps one descriptor in reserve
// for that moment (POSIX): it lets it go, takes the waiting connection, turns
// it away as one past --max-connections ("error: server full"), and takes its
// reserve back. It says so once when the shortage begins, with what to do,
// counts while it lasts, and says once when it is over how many it turned
// away. Used by the accept loop only, on the server's executor.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include "coronet/awaitable.hpp"
#include "tcp_server/client.hpp"
#include "tcp_server/server_state.hpp"

namespace coronet {

class descriptor_shortage {
 public:
  explicit descriptor_shortage(const server* s);
  ~descriptor_shortage();
  descriptor_shortage(const descriptor_shortage&) = delete;
  descriptor_shortage& operator=(const descriptor_shortage&) = delete;

  // Whether a failed accept means the shortage; its first says so.
  bool began(const error_code& accept_error);
  // Takes the waiting connection, if there is one, with the reserve and
  // turns it away. False when there is no reserve to let go.
  bool turn_away_one(tcp::acceptor& acceptor);
  // An accept succeeded: if the shortage was on, it is over, and said so.
  void over();

 private:
  const server* s_;
  int spare_ = -1;  // the reserve: /dev/null, open
  std::optional<steady_clock::time_point> since_;
  std::size_t turned_away_ = 0;
};

}  // namespace coronet
