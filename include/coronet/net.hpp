// SPDX-License-Identifier: BSL-1.0
// Small networking helpers the four programs share: how an endpoint is
// shown, how a network error is worded, and how a server opens its socket
// (the loopback rule included).
#pragma once

#include <fmt/format.h>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/basic_endpoint.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "coronet/awaitable.hpp"
#include "coronet/protocol.hpp"

namespace coronet {

// "127.0.0.1:5000" or "[::1]:5000".
template <typename Protocol>
std::string format_endpoint(const asio::ip::basic_endpoint<Protocol>& endpoint) {
  return format_host_port(endpoint.address().to_string(), endpoint.port());
}

// Why a network operation failed, in the same words on every system: the
// errors a user meets often (port in use, refused, reset, timed out, ...) get
// fixed lowercase text; any other is the system's own message. Windows (and
// Wine) word the same error differently or not at all ("Unknown error (10048)").
std::string describe(const error_code& ec);

// Servers listen on loopback unless told otherwise; anything else reaches
// other machines, so it is said out loud on stderr.
void warn_if_exposed(const asio::ip::address& address, std::ostream& err);

// Opens a server's socket, a TCP acceptor or a UDP socket, on `listen` (an IP
// address, an IPv6 one with or without brackets) and `port`: makes the address, opens the socket, and has
// `bind` do the rest (bind, and for TCP listen). On failure: nothing, and one line on `err`, "error: cannot
// listen on ADDR:PORT<what_failed>: reason". On success: the warning when the address reaches other machines,
// and "listening on ADDR:PORT (<what>)", which scripts wait for.
template <typename Socket, typename Bind>
std::optional<Socket> open_server_socket(const asio::any_io_executor& executor, const std::string& listen,
                                         std::uint16_t port, std::string_view what,
                                         std::string_view what_failed, std::ostream& err, Bind bind) {
  const std::string_view host = unbracketed(listen);  // "[::1]" is ::1
  const auto fail = [&](std::string_view reason) {
    err << fmt::format("error: cannot listen on {}{}: {}\n", format_host_port(host, port), what_failed,
                       reason);
    return std::nullopt;
  };
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return fail("not an IP address (use 127.0.0.1, ::1, 0.0.0.0 or ::)");
  const typename Socket::protocol_type::endpoint endpoint(address, port);
  Socket socket(executor);
  socket.open(endpoint.protocol(), ec);
  if (!ec) ec = bind(socket, endpoint);
  if (ec) return fail(describe(ec));
  warn_if_exposed(address, err);
  err << fmt::format("listening on {} ({})", format_endpoint(socket.local_endpoint(ec)), what) << std::endl;
  return socket;
}

}  // namespace coronet
