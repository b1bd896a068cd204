// SPDX-License-Identifier: BSL-1.0
// udp_client where nobody listens: it says so at once, and with several
// addresses for a name it goes on to the next one and says which answered.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "coronet/awaitable.hpp"
#include "coronet/console.hpp"
#include "support.hpp"
#include "udp/udp_client_exchange.hpp"
#include "udp_client/udp_client.hpp"

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using namespace coronet::testing;
using Catch::Matchers::ContainsSubstring;

namespace {

const auto loopback = asio::ip::make_address("127.0.0.1");

// A name may have several addresses (localhost: 127.0.0.1 and ::1): while
// none has answered, a refusal sends the client on to the next one.
asio::awaitable<void> lines_beside(std::vector<udp::endpoint> servers, coronet::udp_client_options options,
                                   coronet::console console, asio::awaitable<void> server, int* exit_code) {
  auto first =
      co_await (coronet::send_lines(std::move(servers), std::move(options), console) || std::move(server));
  REQUIRE(first.index() == 0);
  *exit_code = std::get<0>(first);
}

}  // namespace

TEST_CASE("udp_client says at once that nobody listens, and exits 1") {
  udp_exchange exchange;
  const std::uint16_t closed_port = exchange.options.port;
  exchange.server.close();  // nobody listens there now
  exchange.options.timeout = 5s;
  const auto started = std::chrono::steady_clock::now();
  const auto result = exchange.run_against({"anyone?", "more"}, stay_silent());
  CHECK(std::chrono::steady_clock::now() - started < 4s);  // well within the timeout
  CHECK(result.exit_code == 1);
  CHECK(result.err == "no server at 127.0.0.1:" + std::to_string(closed_port) + " (connection refused)\n");
  CHECK(result.out.empty());
}

TEST_CASE(
    "udp_client goes on to the next address when nobody listens at the first, and says which answered") {
  asio::io_context io;
  coronet::error_code ec;
  udp::socket server(io);
  server.open(udp::v6(), ec);
  if (!ec) server.bind(udp::endpoint(asio::ip::address_v6::loopback(), 0), ec);
  if (ec) SKIP("this machine has no ::1");
  const auto port = server.local_endpoint().port();
  {
    udp::socket probe(io, udp::v4());
    probe.bind(udp::endpoint(loopback, port), ec);  // nobody on 127.0.0.1 at that port
  }
  if (ec) SKIP("127.0.0.1 has that port taken");
  coronet::udp_client_options options;
  options.timeout = 2s;
  options.verbose = true;
  scripted_console console(io.get_executor());
  console.input.push("which one?");
  console.input.push_end();
  int exit_code = -1;
  int received = 0;
  const std::vector<udp::endpoint> servers{{loopback, port}, {asio::ip::address_v6::loopback(), port}};
  run(io, lines_beside(servers, options, console.con, echo_after_dropping(std::move(server), 0, &received),
                       &exit_code));
  CHECK(exit_code == 0);
  CHECK(console.out.str() == "which one?\n");
  CHECK(received == 1);
  const std::string p = std::to_string(port);
  CHECK_THAT(console.err.str(), ContainsSubstring("no server at 127.0.0.1:" + p + " (connection refused)") &&
                                    ContainsSubstring("[::1]:" + p + " answered"));
}
