// SPDX-License-Identifier: BSL-1.0
// udp_server: prints every datagram it receives as the seed's server did,
// "(127.0.0.1 54321) said: hello", and sends the same bytes back.
//
// Try it: `udp_server` here, then from a second terminal
//   udp_client            (type lines; each comes back)
//   nc -u 127.0.0.1 5000
//
// One coroutine does all the work. It receives without suspending while
// datagrams are queued and suspends only when the socket is empty: that is
// when the printed lines are flushed (and every 64 datagrams of a flood that
// never lets it run empty), so a fast sender costs no write to stdout per
// datagram, and a slow one still sees its line at once.
#include "udp_server/udp_server.hpp"

#include <fmt/format.h>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include <cstddef>
#include <optional>
#include <ostream>
#include <string_view>
#include <vector>

#include "coronet/awaitable.hpp"
#include "coronet/console.hpp"
#include "coronet/net.hpp"
#include "coronet/protocol.hpp"

#ifdef _WIN32
#include <mstcpip.h>  // SIO_UDP_CONNRESET (Windows SDK)
#include <mswsock.h>  // SIO_UDP_CONNRESET (MinGW-w64)
#endif

namespace coronet {

namespace {

// Larger than any UDP payload (65527 bytes over IPv6): nothing is truncated.
constexpr std::size_t receive_buffer_size = 65536;
// Datagrams handled in a row before the coroutine lets the io_context run
// other work (the signal that stops it) during a flood.
constexpr int datagrams_per_turn = 64;

// Windows reports an ICMP port-unreachable, caused by a reply to a sender
// that has gone, as WSAECONNRESET on the next receive. For a server that
// talks to many peers that says nothing about the next datagram: switch it off.
void ignore_unreachable_senders([[maybe_unused]] udp::socket& socket) {
#ifdef _WIN32
  BOOL report = FALSE;
  DWORD returned = 0;
  ::WSAIoctl(socket.native_handle(), SIO_UDP_CONNRESET, &report, sizeof report, nullptr, 0, &returned,
             nullptr, nullptr);
#endif
}

void report_reply_failure(std::ostream& err, const udp::endpoint& sender, const error_code& ec) {
  write_line(err, fmt::format("error: cannot reply to {}: {}", format_endpoint(sender), describe(ec)));
}

// The reply could not be sent at once (the send buffer is full): suspends
// until there is room. False when the wait was cancelled.
asio::awaitable<bool> reply_when_writable(udp::socket* socket, std::string_view payload, udp::endpoint sender,
                                          std::ostream* err) {
  error_code ec = asio::error::would_block;
  while (ec == asio::error::would_block) {
    auto [wait_error] = co_await socket->async_wait(udp::socket::wait_write, use_nothrow_awaitable);
    if (wait_error) co_return false;
    socket->send_to(asio::buffer(payload), sender, 0, ec);
  }
  if (ec) report_reply_failure(*err, sender, ec);
  co_return true;
}

}  // namespace

std::optional<udp::socket> open_udp_server(const asio::any_io_executor& executor,
                                           const udp_server_options& options, std::ostream& err) {
  return open_server_socket<udp::socket>(executor, options.listen, options.port, "udp", " (udp)", err,
                                         [](udp::socket& socket, const udp::endpoint& endpoint) {
                                           error_code ec;
                                           socket.bind(endpoint, ec);
                                           if (!ec) ignore_unreachable_senders(socket);
                                           return ec;
                                         });
}

asio::awaitable<void> serve_datagrams(udp::socket socket, udp_server_options options, std::ostream* out,
                                      std::ostream* err) {
  // Cancellation (the shutdown) arrives as an error value from the waits
  // below, not as an exception, so the loop ends in one place and flushes.
  co_await asio::this_coro::throw_if_cancelled(false);
  const auto executor = co_await asio::this_coro::executor;
  std::vector<char> buffer(receive_buffer_size);
  udp::endpoint sender;
  socket.non_blocking(true);  // receive_from returns would_block instead of blocking the thread

  int in_a_row = 0;  // datagrams handled since the coroutine last suspended
  for (const auto cs = co_await asio::this_coro::cancellation_state; !cancelled(cs);) {
    if (in_a_row == datagrams_per_turn) {
      // A flood never lets the socket run empty: show what was printed, and
      // give the io_context a turn now and then; the loop stops here if that
      // turn was the shutdown.
      out->flush();
      co_await asio::post(executor, asio::use_awaitable);
      in_a_row = 0;
      continue;
    }
    error_code ec;
    const std::size_t size = socket.receive_from(asio::buffer(buffer), sender, 0, ec);
    if (ec == asio::error::would_block) {
      // The socket is empty: show what was printed, then suspend until the
      // next datagram arrives. Cancelling this wait ends the server.
      out->flush();
      auto [wait_error] = co_await socket.async_wait(udp::socket::wait_read, use_nothrow_awaitable);
      if (wait_error) break;
      in_a_row = 0;
      continue;
    }
    ++in_a_row;
    if (ec) {
      // Whatever went wrong concerns that one datagram, not the server.
      write_line(*err, fmt::format("error: receiving a datagram: {}", describe(ec)));
      continue;
    }

    const std::string_view payload(buffer.data(), size);
    *out << format_datagram_line(sender.address().to_string(), sender.port(), payload) << '\n';
    if (options.verbose) *err << fmt::format("received {} bytes from {}\n", size, format_endpoint(sender));
    if (!options.reply) continue;
    socket.send_to(asio::buffer(payload), sender, 0, ec);
    if (ec == asio::error::would_block) {
      if (!co_await reply_when_writable(&socket, payload, sender, err)) break;
    } else if (ec) {
      report_reply_failure(*err, sender, ec);
    }
  }
  out->flush();
}

}  // namespace coronet
