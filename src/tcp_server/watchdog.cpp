// SPDX-License-Identifier: BSL-1.0
// One coroutine watches every connection's deadlines, instead of a timer per
// connection or per read: it sleeps until the earliest one, then stops the
// clients that have been idle too long (no complete line for idle_timeout)
// and those whose queue has stayed over the limit for stall_timeout (they do
// not read; backpressure.hpp). A queue may fill while it sleeps, so it
// sleeps no longer than a quarter of stall_timeout.
//
// It runs on the server's executor and only looks at the clients' deadlines
// (watched_time, client.hpp): what it decides it asks of each client's own
// executor, which looks again before it acts, since a line may have come in
// the meantime.
#include <fmt/format.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>

#include "coronet/awaitable.hpp"
#include "tcp_server/client.hpp"
#include "tcp_server/server_state.hpp"
#include "tcp_server/sessions.hpp"

namespace coronet {

namespace {

// On the client's executor, where its deadline and queue are set.
void stop_if_still_idle(client& c) {
  if (c.deadline.is_set() && c.deadline.get() <= steady_clock::now())
    stop(c, end_reason::idle_timeout, "error: idle timeout");
}

void drop_if_still_full(server* s, client& c) {
  const auto& out = *c.outgoing;
  if (c.stopped || !out.full || out.full_since.get() + s->options.stall_timeout > steady_clock::now()) return;
  stop(c, end_reason::not_reading);
  tell_operator(
      s, s->console.err,
      fmt::format("dropped {}: it does not read (over {} bytes waiting)", c.name, s->options.room_queue));
}

}  // namespace

asio::awaitable<void> watch_clients(server* s) {
  const auto idle_timeout = s->options.idle_timeout;
  const auto stall_timeout = s->options.stall_timeout;
  asio::steady_timer timer(s->executor);
  for (const auto cs = co_await asio::this_coro::cancellation_state; !cancelled(cs);) {
    const auto now = steady_clock::now();
    auto wake = now + stall_timeout / 4;
    for (const auto& c : s->sessions.clients()) {
      if (idle_timeout.count() != 0 && c->deadline.is_set()) {
        const auto deadline = c->deadline.get();
        if (deadline <= now) {
          asio::dispatch(c->socket.get_executor(), [c] { stop_if_still_idle(*c); });
        } else {
          wake = std::min(wake, deadline);
        }
      }
      if (c->outgoing && c->outgoing->full_since.is_set()) {
        const auto stall_deadline = c->outgoing->full_since.get() + stall_timeout;
        if (stall_deadline <= now) {
          asio::dispatch(c->socket.get_executor(), [s, c] { drop_if_still_full(s, *c); });
        } else {
          wake = std::min(wake, stall_deadline);
        }
      }
    }
    timer.expires_at(wake);
    auto [ec] = co_await timer.async_wait(use_nothrow_awaitable);
    if (ec) co_return;
  }
}

}  // namespace coronet
