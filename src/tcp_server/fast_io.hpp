// SPDX-License-Identifier: BSL-1.0
// tcp_server's speed tricks, and only those: each beside the plain code it
// replaces and the figure it bought (docs/performance.md, "What made
// tcp_server fast"). The sessions would work with the plain code; a learner
// may put it back and measure the difference with scripts/bench.
#pragma once

#include <boost/asio/deferred.hpp>
#include <boost/asio/write.hpp>

#include <cstddef>
#include <string_view>

#include "coronet/protocol.hpp"
#include "tcp_server/client.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace coronet {

// 1. Read without a trip through the scheduler.
//    Plain:  auto [ec, n] = co_await socket.async_read_some(buffer, use_nothrow_awaitable);
//    Here:   the socket is non-blocking, and a plain read_some takes what has
//            arrived and returns at once (would_block when nothing has). The
//            session suspends only when nothing has arrived, in wait_readable().
//    Bought: ping-pong went from 18.4 to 9.4 µs of server CPU per request
//            (with trick 2; the raw C floor: 9.6).
// `drained` tells the caller to wait before the next read: a read that did
// not fill its space emptied the socket, and another would only find nothing.
inline error_code read_arrived(tcp::socket& socket, line_splitter& splitter, bool& drained) {
  const auto space = splitter.prepare();
  error_code ec;
  const std::size_t n = socket.read_some(asio::buffer(space.data(), space.size()), ec);
  splitter.commit(n);
  drained = n < space.size();
  return ec;
}

// 2. Write without a trip through the scheduler.
//    Plain:  co_await asio::async_write(socket, asio::buffer(bytes), use_nothrow_awaitable);
//    Here:   write_some on the non-blocking socket sends what the kernel takes
//            now (usually all of it); only the rest needs async_write, which
//            suspends. A coroutine of its own, so that its frame (and the
//            rest's bookkeeping) exists only while a write waits, not in
//            every idle session's frame.
//    Bought: with trick 1, the figure above.
inline asio::awaitable<error_code> write_all(tcp::socket* socket, std::string_view bytes) {
  error_code ec;
  const std::size_t sent = socket->write_some(asio::buffer(bytes), ec);
  if (!ec && sent == bytes.size()) co_return ec;
  if (ec && ec != asio::error::would_block) co_return ec;
  auto [write_error, n] =
      co_await asio::async_write(*socket, asio::buffer(bytes.substr(sent)), use_nothrow_awaitable);
  co_return write_error;
}

// 3. Wait for readability as a deferred operation, without a buffer.
//    Plain:  co_await socket.async_wait(tcp::socket::wait_read, use_nothrow_awaitable);
//    Here:   co_await on a deferred operation suspends without the extra
//            coroutine frame use_awaitable builds to start it (208 bytes an
//            idle connection would hold), and a wait, unlike a read, holds no
//            buffer: an idle session first hands its buffer back
//            (line_splitter::release_if_empty()).
//    Bought: an idle echo connection went from 2.17 to 1.49 KiB of resident
//            memory (with keeping the session's frame small: the work between
//            its two suspension points is in plain functions).
inline constexpr auto deferred_nothrow = asio::as_tuple(asio::deferred);

inline auto wait_readable(tcp::socket& socket) {
  return socket.async_wait(tcp::socket::wait_read, deferred_nothrow);
}

// 4. Keep freed heap for reuse (glibc).
//    Plain:  nothing; glibc gives the top of its heap back to the system
//            whenever 128 KiB of it are free, and faults it in again at the
//            next burst (read buffers come and go with every burst of traffic).
//    Here:   keep up to 64 MiB of freed memory (main() calls this once).
//    Bought: with 60,000-byte lines that brk and the TLB flushes after it took
//            35 % of the server's time; the rate had fallen to 0.14 of the floor.
inline void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

}  // namespace coronet
