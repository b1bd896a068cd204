// Small networking helpers the four programs share: how an endpoint is shown,
// the loopback rule for servers, and the common command-line flags.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/basic_endpoint.hpp>
#include <boost/system/error_code.hpp>

#include <ostream>
#include <string>

#include "coronet/protocol.hpp"

namespace CLI {
class App;
}

namespace coronet {

namespace asio = boost::asio;

// "127.0.0.1:5000" or "[::1]:5000".
template <typename Protocol>
std::string format_endpoint(const asio::ip::basic_endpoint<Protocol>& endpoint) {
  return format_host_port(endpoint.address().to_string(), endpoint.port());
}

// Why a network operation failed, in the same words on every system: the
// errors a user meets often (port in use, refused, reset, timed out, ...) get
// fixed lowercase text; any other is the system's own message. Windows (and
// Wine) word the same error differently or not at all ("Unknown error (10048)").
std::string describe(const boost::system::error_code& ec);

// Servers listen on loopback unless told otherwise; anything else reaches
// other machines, so it is said out loud on stderr.
void warn_if_exposed(const asio::ip::address& address, std::ostream& err);

// --version (prints "NAME VERSION") and the usual exit codes: 0 for --help
// and --version, 2 for a usage error.
void add_common_flags(CLI::App& app, const std::string& program_name);

}  // namespace coronet
