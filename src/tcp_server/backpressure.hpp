// SPDX-License-Identifier: BSL-1.0
// Chat and room: a client that reads slowly, or not at all. Each client's
// queue of outgoing lines has a limit (server_options::room_queue). While the
// queue of any client other than a sender is over it, that sender (a room
// reader, the operator) is held back before it reads more, so a fast sender
// goes only as fast as its slowest listener; TCP then slows the sender's
// peer in turn. A queue stays within the limit plus the lines its senders
// had already read when it filled. (A client whose queue stays full for
// stall_timeout does not read: the watchdog drops it, see watchdog.cpp.)
//
// Where each piece lives: a client's "full" flag belongs to its executor,
// where its queue is; the list of full queues belongs to the server's
// executor, which each client tells when its queue fills or drains. A sender
// looks at a hint of that list's size before each read (no waiting and no
// hop while no queue is full, which is nearly always); when the hint says
// one is, the sender waits on the server's executor until no other client's
// queue is full, on a timer that a queue leaving "full" cancels.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

#include "coronet/awaitable.hpp"
#include "tcp_server/client.hpp"

namespace coronet {

class backpressure {
 public:
  backpressure(asio::any_io_executor server_executor, std::size_t limit);

  // Queues a line for `c` and marks its queue full past the limit. On c's executor.
  void enqueue(const std::shared_ptr<client>& c, shared_line line, bool close_after = false);
  // The writer has taken everything queued: the queue is empty, not full. On c's executor.
  void taken(const std::shared_ptr<client>& c);

  // Whether some client's queue may be full: a hint, read anywhere.
  [[nodiscard]] bool maybe_full() const noexcept { return full_hint_.load(std::memory_order_relaxed) != 0; }

  // Suspends until no client's queue but the sender's own is full (`sender`
  // null: the operator). Runs on the server's executor; a sender on another
  // executor awaits it through co_spawn. False when cancelled.
  asio::awaitable<bool> wait_for_room(std::shared_ptr<const client> sender);

 private:
  void set_full(const std::shared_ptr<client>& c, bool full);
  [[nodiscard]] bool others_full(const client* sender) const;

  const asio::any_io_executor executor_;
  const std::size_t limit_;
  std::vector<std::shared_ptr<const client>> full_;  // the server's executor
  std::atomic<std::size_t> full_hint_{0};            // full_.size(), for maybe_full()
  asio::steady_timer queue_drained_;                 // waiters wait on it; cancel() wakes them all
};

}  // namespace coronet
