// SPDX-License-Identifier: BSL-1.0
#include "coronet/net.hpp"

#include <boost/asio/error.hpp>

#include <ostream>
#include <string>

#include "coronet/awaitable.hpp"

namespace coronet {

std::string describe(const error_code& ec) {
  namespace error = asio::error;
  // Compared as codes, not conditions: each is the native code of this system.
  if (ec == error::address_in_use) return "address already in use";
  if (ec == error::access_denied) return "permission denied";
  if (ec == error::address_family_not_supported) return "address family not supported";
  if (ec == error::connection_refused) return "connection refused";
  if (ec == error::connection_reset) return "connection reset by peer";
  if (ec == error::connection_aborted) return "connection aborted";
  if (ec == error::broken_pipe) return "broken pipe";
  if (ec == error::timed_out) return "timed out";
  if (ec == error::host_unreachable) return "host unreachable";
  if (ec == error::network_unreachable) return "network unreachable";
  if (ec == error::no_descriptors) return "too many open files";
  if (ec == error::host_not_found) return "host not found";
  if (ec == error::host_not_found_try_again) return "host not found (try again)";
  if (ec == error::eof) return "end of file";
  return ec.message();
}

void warn_if_exposed(const asio::ip::address& address, std::ostream& err) {
  if (address.is_loopback()) return;
  // ::ffff:127.0.0.1, an IPv4 loopback address written as IPv6, is loopback too.
  if (address.is_v6() && address.to_v6().is_v4_mapped() &&
      asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).is_loopback())
    return;
  err << fmt::format(
      "warning: listening on {}, which other machines can reach; use the default 127.0.0.1 to "
      "stay local\n",
      address.to_string());
}

}  // namespace coronet
