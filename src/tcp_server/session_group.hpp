// SPDX-License-Identifier: BSL-1.0
// The one owner of every session: the list of connected clients. A session
// joins when its client is admitted and leaves once it has ended; at
// shutdown the group stops them all and waits for the last to end, so that
// serve() returns only when no session is left. Used on the server's
// executor only. (Boost.Beast's awaitable servers have a `task_group` for
// the same job; here stopping a session means closing its socket, which
// ends whatever it waits in, so the group needs no cancellation signal per
// session, and an idle connection costs it one pointer.)
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "coronet/awaitable.hpp"
#include "tcp_server/client.hpp"

namespace coronet {

class session_group {
 public:
  explicit session_group(const asio::any_io_executor& executor);

  [[nodiscard]] std::size_t size() const noexcept { return clients_.size(); }
  [[nodiscard]] const std::vector<std::shared_ptr<client>>& clients() const noexcept { return clients_; }
  [[nodiscard]] bool stopping() const noexcept { return stopping_; }

  void join(std::shared_ptr<client> c);
  // Its session has ended.
  void leave(const std::shared_ptr<client>& c);

  // Stops every session, each client told `last_line`, and suspends until
  // the last has left. (The acceptor is closed first: nobody joins now.)
  asio::awaitable<void> stop_all(std::string last_line);

 private:
  // Every client, in no particular order. Each knows its place, so one
  // leaves by swapping with the last: no search, and no allocation per
  // client beyond its slot.
  std::vector<std::shared_ptr<client>> clients_;
  bool stopping_ = false;
  asio::steady_timer all_left_;  // cancelled when the last leaves while stopping
};

}  // namespace coronet
