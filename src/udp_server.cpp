// udp_server: prints every datagram it receives as the seed's server did,
// "(127.0.0.1 54321) said: hello", and sends the same bytes back.
//
// Try it: `udp_server` here, then from a second terminal
//   udp_client            (type lines; each comes back)
//   nc -u 127.0.0.1 5000
//
// One coroutine does all the work. It receives without suspending while
// datagrams are queued and suspends only when the socket is empty: that is
// when the printed lines are flushed, so a fast sender costs no write to
// stdout per datagram, and a slow one still sees its line at once.
#include "udp_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <string_view>
#include <vector>

#include "coronet/net.hpp"

#ifdef _WIN32
#include <mstcpip.h>  // SIO_UDP_CONNRESET (Windows SDK)
#include <mswsock.h>  // SIO_UDP_CONNRESET (MinGW-w64)
#endif

namespace coronet {

namespace {

using boost::system::error_code;
constexpr auto as_value = asio::as_tuple(asio::use_awaitable);

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

// The reply could not be sent at once (the send buffer is full): suspends
// until there is room. False when the wait was cancelled.
asio::awaitable<bool> reply_when_writable(udp::socket& socket, std::string_view payload,
                                          const udp::endpoint& sender, std::ostream& err) {
  error_code ec = asio::error::would_block;
  while (ec == asio::error::would_block) {
    auto [wait_error] = co_await socket.async_wait(udp::socket::wait_write, as_value);
    if (wait_error) co_return false;
    socket.send_to(asio::buffer(payload), sender, 0, ec);
  }
  if (ec) err << "error: cannot reply to " << format_endpoint(sender) << ": " << describe(ec) << std::endl;
  co_return true;
}

}  // namespace

std::optional<udp::socket> open_udp_server(const asio::any_io_executor& executor,
                                           const udp_server_options& options, std::ostream& err) {
  const std::string where = format_host_port(options.listen, options.port);
  const auto fail = [&](const std::string& reason) {
    err << "error: cannot listen on " << where << " (udp): " << reason << '\n';
    return std::nullopt;
  };
  error_code ec;
  const auto address = asio::ip::make_address(options.listen, ec);
  if (ec) return fail("not an IP address (use 127.0.0.1, ::1, 0.0.0.0 or ::)");
  const udp::endpoint endpoint(address, options.port);
  udp::socket socket(executor);
  socket.open(endpoint.protocol(), ec);
  if (ec) return fail(describe(ec));
  socket.bind(endpoint, ec);
  if (ec) return fail(describe(ec));
  ignore_unreachable_senders(socket);
  warn_if_exposed(address, err);
  err << "listening on " << format_endpoint(socket.local_endpoint(ec)) << " (udp)" << std::endl;
  return socket;
}

asio::awaitable<void> serve_datagrams(udp::socket socket, udp_server_options options, std::ostream& out,
                                      std::ostream& err) {
  // Cancellation (the shutdown) arrives as an error value from the wait below,
  // not as an exception, so the loop ends in one place and flushes.
  co_await asio::this_coro::throw_if_cancelled(false);
  const auto executor = co_await asio::this_coro::executor;
  std::vector<char> buffer(receive_buffer_size);
  udp::endpoint sender;
  socket.non_blocking(true);  // receive_from returns would_block instead of blocking the thread

  int in_a_row = 0;  // datagrams handled since the coroutine last suspended
  while (true) {
    if (in_a_row == datagrams_per_turn) {
      // A flood never lets the socket run empty: give the io_context a turn
      // now and then, and stop here if that turn was the shutdown.
      co_await asio::post(executor, asio::use_awaitable);
      if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) break;
      in_a_row = 0;
    }
    error_code ec;
    const std::size_t size = socket.receive_from(asio::buffer(buffer), sender, 0, ec);
    if (ec == asio::error::would_block) {
      // The socket is empty: show what was printed, then suspend until the
      // next datagram arrives. Cancelling this wait ends the server.
      out.flush();
      auto [wait_error] = co_await socket.async_wait(udp::socket::wait_read, as_value);
      if (wait_error) break;
      in_a_row = 0;
      continue;
    }
    ++in_a_row;
    if (ec) {
      // Whatever went wrong concerns that one datagram, not the server.
      err << "error: receiving a datagram: " << describe(ec) << std::endl;
      continue;
    }

    const std::string_view payload(buffer.data(), size);
    out << format_datagram_line(sender.address().to_string(), sender.port(), payload) << '\n';
    if (options.verbose) err << "received " << size << " bytes from " << format_endpoint(sender) << '\n';
    if (!options.reply) continue;
    socket.send_to(asio::buffer(payload), sender, 0, ec);
    if (ec == asio::error::would_block) {
      if (!co_await reply_when_writable(socket, payload, sender, err)) break;
    } else if (ec) {
      err << "error: cannot reply to " << format_endpoint(sender) << ": " << describe(ec) << std::endl;
    }
  }
  out.flush();
}

}  // namespace coronet
