// SPDX-License-Identifier: BSL-1.0
#include "tcp_server/backpressure.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "coronet/awaitable.hpp"
#include "tcp_server/client.hpp"

namespace coronet {

backpressure::backpressure(asio::any_io_executor server_executor, std::size_t limit)
    : executor_(std::move(server_executor)),
      limit_(limit),
      // Never expires: it is only ever cancelled, and every waiter waits on it.
      queue_drained_(executor_, steady_clock::time_point::max()) {}

void backpressure::enqueue(const std::shared_ptr<client>& c, shared_line line, bool close_after) {
  if (c->stopped) return;
  auto& out = *c->outgoing;
  out.bytes += line->size();
  out.lines.push_back(std::move(line));
  out.close_when_sent = out.close_when_sent || close_after;
  out.wake.cancel();
  if (out.bytes > limit_) set_full(c, true);
}

void backpressure::taken(const std::shared_ptr<client>& c) {
  c->outgoing->bytes = 0;
  set_full(c, false);
}

// On c's executor: its flag, then (on the server's) the list of full queues.
void backpressure::set_full(const std::shared_ptr<client>& c, bool full) {
  auto& out = *c->outgoing;
  if (out.full == full) return;
  out.full = full;
  if (full) {
    out.full_since.set(steady_clock::now());
  } else {
    out.full_since.clear();
  }
  asio::dispatch(executor_, [this, c, full] {
    if (full) {
      full_.push_back(c);
    } else {
      std::erase(full_, c);
      queue_drained_.cancel();  // every held-back sender looks again
    }
    full_hint_.store(full_.size(), std::memory_order_relaxed);
  });
}

bool backpressure::others_full(const client* sender) const {
  return std::ranges::any_of(full_, [sender](const auto& c) { return c.get() != sender; });
}

asio::awaitable<bool> backpressure::wait_for_room(std::shared_ptr<const client> sender) {
  // Checked and awaited on the server's executor, where the list changes: a
  // queue that drains between the check and the wait cancels the wait.
  for (const auto cs = co_await asio::this_coro::cancellation_state; !cancelled(cs);) {
    if (!others_full(sender.get())) co_return true;
    co_await queue_drained_.async_wait(use_nothrow_awaitable);
  }
  co_return false;
}

}  // namespace coronet
