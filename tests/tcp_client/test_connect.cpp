// SPDX-License-Identifier: BSL-1.0
// tcp_client connecting: every resolved address in turn, and one line naming
// the target and the reason when it cannot (refused, unresolvable, no answer).
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "coronet/console.hpp"
#include "support.hpp"
#include "tcp_client/client.hpp"
#include "tcp_client/client_test.hpp"
#include "time_scale.hpp"

namespace asio = boost::asio;
using namespace coronet::testing;
using namespace std::chrono_literals;
using Catch::Matchers::ContainsSubstring;
using coronet::error_code;

namespace {

// Runs connect_to_first and notes where it connected.
asio::awaitable<void> connect_and_note(std::vector<tcp::endpoint> endpoints, coronet::console con,
                                       std::optional<tcp::endpoint>* connected) {
  auto [ec, socket] = co_await coronet::connect_to_first(std::move(endpoints), 2s, con, false);
  REQUIRE_FALSE(ec);
  *connected = socket.remote_endpoint();
}

}  // namespace

TEST_CASE("every resolved address is tried until one connects, IPv6 and IPv4") {
  asio::io_context io;
  scripted_console console(io.get_executor());
  auto refusing_v4 = bind_without_listening(io, "127.0.0.1");
  auto refusing_v6 = bind_without_listening(io, "::1");
  auto listening_v4 = listen_on_loopback(io);
  auto listening_v6 = listen_on_loopback(io, asio::ip::make_address("::1"));

  auto connect = [&](std::vector<tcp::endpoint> endpoints) {
    std::optional<tcp::endpoint> connected;
    spawn(io, connect_and_note(std::move(endpoints), console.con, &connected));
    io.restart();
    io.run_for(coronet::testing::hang_deadline(10s));
    return connected;
  };
  CHECK(connect({refusing_v6.local_endpoint(), listening_v4.local_endpoint()}) ==
        listening_v4.local_endpoint());
  CHECK(connect({refusing_v4.local_endpoint(), listening_v6.local_endpoint()}) ==
        listening_v6.local_endpoint());
}

TEST_CASE("a refused connection: one line naming the target and the reason, exit 1") {
  asio::io_context io;
  const scripted_console console(io.get_executor());
  auto refusing = bind_without_listening(io, "127.0.0.1");
  auto options = options_for(refusing);
  CHECK(run_client(io, options, console.con) == 1);
  const auto target = "127.0.0.1:" + std::to_string(options.port);
  CHECK(console.err.str() == "cannot connect to " + target + ": connection refused\n");
  CHECK(console.out.str().empty());
}

TEST_CASE("an unresolvable host: one line naming the target and the reason, exit 1") {
  asio::io_context io;
  const scripted_console console(io.get_executor());
  client_options options;
  // An empty label: the system's resolver rejects the name without asking DNS,
  // so the test sends nothing off this machine.
  options.host = "no..such..host";
  options.port = 5000;
  CHECK(run_client(io, options, console.con) == 1);
  CHECK_THAT(console.err.str(), ContainsSubstring("cannot connect to no..such..host:5000: cannot resolve"));
  CHECK(console.out.str().empty());
}

// POSIX only: Windows refuses a connection request at a full accept queue
// (WSAECONNREFUSED) instead of dropping it, so there this connect never hangs.
#ifndef _WIN32
TEST_CASE("a connect timeout: one line naming the target and the wait, exit 1 (POSIX only)", "[posix]") {
  asio::io_context io;
  const scripted_console console(io.get_executor());
  // A listener that never accepts, with the smallest backlog: once its accept
  // queue is full, Linux drops further connection requests, so a connect to it
  // hangs — on loopback, with no traffic anywhere else.
  auto listener = bind_without_listening(io, "127.0.0.1");
  listener.listen(0);
  std::vector<tcp::socket> queued;
  bool queue_full = false;
  for (int i = 0; i < 16 && !queue_full; ++i) {
    tcp::socket filler(io);
    asio::steady_timer timer(io, 200ms);
    bool connected = false;
    filler.async_connect(listener.local_endpoint(), [&](error_code ec) {
      connected = !ec;
      timer.cancel();
    });
    timer.async_wait([&](error_code) { filler.cancel(); });
    io.restart();
    io.run();
    queued.push_back(std::move(filler));
    queue_full = !connected;  // this one hangs, and so will the client's
  }
  REQUIRE(queue_full);
  io.restart();
  auto options = options_for(listener);
  options.connect_timeout = 300ms;
  CHECK(run_client(io, options, console.con) == 1);
  const auto target = "127.0.0.1:" + std::to_string(options.port);
  CHECK(console.err.str() == "cannot connect to " + target + ": no answer within 0.3s\n");
}
#endif
