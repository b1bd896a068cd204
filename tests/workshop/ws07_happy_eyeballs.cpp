// SPDX-License-Identifier: BSL-1.0
// Exercise 07, Happy Eyeballs (RFC 8305) in tcp_client's connect_to_first():
// the next address is tried 250 ms after the one before it started (or as
// soon as that one failed), the attempts race, the first to connect wins and
// the others are cancelled. See docs/workshop/07-happy-eyeballs/README.md.
//
// An address that "does not answer" is a loopback listener whose accept queue
// is full: Linux then drops the SYNs sent to it, as a host behind a dead
// route would, and a connect to it waits until its own timeout.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "coronet/net.hpp"
#include "tcp_client/client.hpp"
#include "time_scale.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Catch::Matchers::ContainsSubstring;
using coronet::error_code;
using coronet::format_endpoint;
using coronet::tcp;

namespace {

constexpr std::string_view readme = "see docs/workshop/07-happy-eyeballs/README.md";

const auto v6_loopback = asio::ip::make_address("::1");
const auto v4_loopback = asio::ip::make_address("127.0.0.1");

// A listener that accepts connections (the kernel completes them; nobody
// needs to call accept for a connect to succeed).
tcp::acceptor answering(asio::io_context& io, const asio::ip::address& address) {
  return {io, tcp::endpoint(address, 0)};
}

// Bound, not listening: a connect there is refused at once.
tcp::acceptor refusing(asio::io_context& io, const asio::ip::address& address) {
  const tcp::endpoint endpoint(address, 0);
  tcp::acceptor acceptor(io, endpoint.protocol());
  acceptor.bind(endpoint);
  return acceptor;
}

// Listening with a backlog of 0 and one connection waiting in it, never
// accepted: the queue is full and a new connect hears nothing back.
struct silent_listener {
  silent_listener(asio::io_context& io, const asio::ip::address& address)
      : acceptor(io, tcp::endpoint(address, 0).protocol()), filler(io) {
    acceptor.bind(tcp::endpoint(address, 0));
    acceptor.listen(0);
    filler.connect(acceptor.local_endpoint());
  }
  tcp::endpoint endpoint() const { return acceptor.local_endpoint(); }
  tcp::acceptor acceptor;
  tcp::socket filler;
};

struct attempt_result {
  std::optional<error_code> error;  // set once connect_to_first() has returned
  std::optional<tcp::endpoint> connected_to;
  bool all_work_done = false;  // the io_context ran out of work: no attempt left pending
  std::string diagnostics;     // what the client wrote on stderr (verbose: each address tried)
};

// Runs connect_to_first() alone on its own io_context, for at most `patience`,
// and then reports whether anything it started is still pending.
attempt_result connect_first(std::vector<tcp::endpoint> endpoints, std::chrono::milliseconds timeout,
                             asio::io_context& io, std::chrono::milliseconds patience) {
  attempt_result result;
  std::ostringstream out, err;
  coronet::console_input input(io.get_executor());
  const coronet::console con{input, out, err, false};
  asio::co_spawn(
      io,
      [&, endpoints = std::move(endpoints)]() mutable -> asio::awaitable<void> {
        auto [ec, socket] = co_await coronet::connect_to_first(std::move(endpoints), timeout, con, true);
        result.error = ec;
        error_code ignored;
        if (!ec) result.connected_to = socket.remote_endpoint(ignored);
      },
      [](const std::exception_ptr& e) {
        if (e) std::rethrow_exception(e);
      });
  io.run_for(coronet::testing::hang_deadline(patience));
  result.all_work_done = io.stopped();
  result.diagnostics = err.str();
  return result;
}

std::string shown(const tcp::endpoint& endpoint) {
  return format_endpoint(endpoint);
}

// The race ended with `expected`, the failure of the last address, and left
// no attempt pending.
void check_lost_with(const attempt_result& result, error_code expected) {
  INFO("what the client said (verbose):\n" << result.diagnostics);
  REQUIRE(result.error);
  CHECK(*result.error == expected);
  CHECK(result.all_work_done);
}

}  // namespace

TEST_CASE("ws07: an address that does not answer holds the next one back for 250 ms, not its whole timeout",
          "[ws07][workshop]") {
  asio::io_context io;
  const silent_listener v6(io, v6_loopback);
  auto v4 = answering(io, v4_loopback);
  const auto v4_endpoint = v4.local_endpoint();
  // A minute for each address: only a race reaches 127.0.0.1 within the 10 s this test waits.
  const auto result = connect_first({v6.endpoint(), v4_endpoint}, 60s, io, 10s);
  INFO("what the client said (verbose):\n" << result.diagnostics);
  if (!result.error)
    FAIL("ws07: connect_to_first() still waited on "
         << shown(v6.endpoint()) << ", which does not answer, after 10 s; " << shown(v4_endpoint)
         << " should have been tried 250 ms after it started and won "
            "the race — "
         << readme);
  if (*result.error)
    FAIL("ws07: connect_to_first() failed with '" << coronet::describe(*result.error) << "' though "
                                                  << shown(v4_endpoint) << " was listening — " << readme);
  REQUIRE(result.connected_to == v4_endpoint);
  if (!result.all_work_done)
    FAIL("ws07: connect_to_first() returned, but the attempt on "
         << shown(v6.endpoint())
         << " was still pending 10 s later: the attempts that lose the race must be cancelled — " << readme);
}

TEST_CASE("ws07: an address that answers at once wins, and the next one is never tried", "[ws07][workshop]") {
  asio::io_context io;
  auto v6 = answering(io, v6_loopback);
  const silent_listener v4(io, v4_loopback);
  const auto result = connect_first({v6.local_endpoint(), v4.endpoint()}, 60s, io, 10s);
  INFO("what the client said (verbose):\n" << result.diagnostics);
  REQUIRE(result.error);
  REQUIRE_FALSE(*result.error);
  CHECK(result.connected_to == v6.local_endpoint());
  CHECK_THAT(result.diagnostics, !ContainsSubstring("trying " + shown(v4.endpoint())));
  if (!result.all_work_done)
    FAIL(
        "ws07: connect_to_first() returned, but something it started (the 250 ms wait before the next "
        "attempt, or that attempt) was still pending 10 s later — "
        << readme);
}

TEST_CASE("ws07: a refused address gives way to the next one, and its failure does not end the race",
          "[ws07][workshop]") {
  asio::io_context io;
  auto v6 = refusing(io, v6_loopback);
  auto v4 = answering(io, v4_loopback);
  const auto result = connect_first({v6.local_endpoint(), v4.local_endpoint()}, 60s, io, 10s);
  INFO("what the client said (verbose):\n" << result.diagnostics);
  REQUIRE(result.error);
  if (*result.error)
    FAIL("ws07: connect_to_first() gave up with '"
         << coronet::describe(*result.error) << "' from " << shown(v6.local_endpoint()) << ", though "
         << shown(v4.local_endpoint())
         << " was listening: one attempt failing must not end the race while another may succeed — "
         << readme);
  CHECK(result.connected_to == v4.local_endpoint());
  CHECK(result.all_work_done);
}

TEST_CASE("ws07: when every address fails, the race ends with the last failure", "[ws07][workshop]") {
  asio::io_context io;
  SECTION("both refuse") {
    auto v6 = refusing(io, v6_loopback);
    auto v4 = refusing(io, v4_loopback);
    check_lost_with(connect_first({v6.local_endpoint(), v4.local_endpoint()}, 60s, io, 10s),
                    asio::error::connection_refused);
  }
  SECTION("neither answers: each attempt times out on its own") {
    const silent_listener v6(io, v6_loopback);
    const silent_listener v4(io, v4_loopback);
    check_lost_with(connect_first({v6.endpoint(), v4.endpoint()}, 500ms, io, 10s), asio::error::timed_out);
  }
  SECTION("no address at all") {
    const auto result = connect_first({}, 60s, io, 10s);
    REQUIRE(result.error);
    CHECK(*result.error == asio::error::host_not_found);
  }
}
