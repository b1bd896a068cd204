// SPDX-License-Identifier: BSL-1.0
// tcp_server starting: where it listens, and the one line it prints when it
// cannot.
#include <catch2/catch_test_macros.hpp>

#include <sstream>
#include <string>

#include "support.hpp"
#include "tcp_server/server.hpp"

namespace asio = boost::asio;
using namespace coronet::testing;

TEST_CASE("tcp_server says where it listens: the port the system picked") {
  test_server server(options_for(server_mode::room));
  CHECK(server.errors() == "listening on 127.0.0.1:" + std::to_string(server.port()) + " (room)\n");
  CHECK(server.port() != 0);
  server.run([]() -> asio::awaitable<void> { co_return; }());
}

TEST_CASE("tcp_server reports a port in use as one line naming the address and the reason") {
  asio::io_context io;
  const tcp::acceptor taken(io, {asio::ip::address_v4::loopback(), 0});
  server_options options;
  options.port = taken.local_endpoint().port();
  std::ostringstream err;
  CHECK_FALSE(coronet::open_listener(io.get_executor(), options, err));
  const std::string where = "127.0.0.1:" + std::to_string(options.port);
  CHECK(err.str().starts_with("error: cannot listen on " + where + ": "));
  CHECK(contains(err.str(), "in use"));
  CHECK(err.str().find('\n') == err.str().size() - 1);
}

TEST_CASE("tcp_server rejects a listen address that is not an address") {
  asio::io_context io;
  server_options options;
  options.listen = "no such host";
  std::ostringstream err;
  CHECK_FALSE(coronet::open_listener(io.get_executor(), options, err));
  CHECK(err.str().starts_with("error: cannot listen on no such host:5000: "));
}

TEST_CASE("tcp_server warns when it listens beyond loopback") {
  asio::io_context io;
  server_options options;
  options.listen = "0.0.0.0";
  options.port = 0;
  std::ostringstream err;
  CHECK(coronet::open_listener(io.get_executor(), options, err));
  CHECK(err.str().starts_with("warning: listening on 0.0.0.0"));
}
