// SPDX-License-Identifier: BSL-1.0
#include "tcp_server/session_group.hpp"

#include <boost/asio/dispatch.hpp>

#include <memory>
#include <string>
#include <utility>

#include "coronet/awaitable.hpp"
#include "tcp_server/client.hpp"

namespace coronet {

session_group::session_group(const asio::any_io_executor& executor)
    : all_left_(executor, steady_clock::time_point::max()) {}

void session_group::join(std::shared_ptr<client> c) {
  c->place = clients_.size();
  clients_.push_back(std::move(c));
}

void session_group::leave(const std::shared_ptr<client>& c) {
  auto& last = clients_.back();
  last->place = c->place;
  std::swap(clients_[c->place], last);
  clients_.pop_back();
  if (stopping_ && clients_.empty()) all_left_.cancel();
}

asio::awaitable<void> session_group::stop_all(std::string last_line) {
  stopping_ = true;
  for (const auto& c : clients_) {
    // On the client's executor, like every stop; the line outlives the
    // dispatch in its copy, and the client in `c`.
    asio::dispatch(c->socket.get_executor(), [c, last_line] { stop(*c, end_reason::shutdown, last_line); });
  }
  // Each session ends on its own executor and then leaves on this one.
  while (!clients_.empty()) co_await all_left_.async_wait(use_nothrow_awaitable);
}

}  // namespace coronet
