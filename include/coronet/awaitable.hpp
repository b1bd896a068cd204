// SPDX-License-Identifier: BSL-1.0
// The Asio names every coroutine of coronet uses, defined once.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

namespace coronet {

namespace asio = boost::asio;
using boost::system::error_code;

// The completion token of every operation whose errors are part of normal
// life (end of file, a reset, a timeout, a cancellation): the result comes
// back as a tuple, the error first, instead of as an exception.
//   auto [ec, n] = co_await socket.async_read_some(buffer, use_nothrow_awaitable);
// (The name is the one Asio's own examples use.) An operation that must not
// fail uses plain asio::use_awaitable, and a failure is an exception, which
// the co_spawn that started the coroutine reports.
inline constexpr auto use_nothrow_awaitable = asio::as_tuple(asio::use_awaitable);

// How a long-running coroutine asks whether it was cancelled: it takes its
// cancellation state once, then asks at the top of its loop and after each
// wait that a cancellation may have cut short:
//   for (const auto cs = co_await asio::this_coro::cancellation_state; !cancelled(cs);) { ... }
// A cancellation that arrives between two waits cancels no operation; Asio
// would throw it from the next co_await, so the loop looks first.
inline bool cancelled(const asio::cancellation_state& cs) noexcept {
  return cs.cancelled() != asio::cancellation_type::none;
}

}  // namespace coronet
