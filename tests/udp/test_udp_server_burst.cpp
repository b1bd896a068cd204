// SPDX-License-Identifier: BSL-1.0
// udp_server under a burst from many senders at once, one of which vanishes
// before its echo: what arrives is echoed exact and in order, and nothing
// ends the server.
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch_message.hpp>
#include <catch2/catch_test_macros.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "coronet/protocol.hpp"
#include "support.hpp"
#include "udp/udp_server_exchange.hpp"

namespace asio = boost::asio;
using namespace coronet::testing;

namespace {

// Many senders at once, more datagrams in a row than the server handles in
// one turn, and a sender that vanishes before its echo. UDP may drop some of
// the burst (a receive buffer may fill), so of the burst each sender can only
// check that what comes back is its own datagrams, exact, in order, never
// twice. Then each sends one more, until it is answered: the vanished sender
// and the burst end nothing.
struct burst_result {
  int echoed = 0;                        // echoes of the burst received
  bool exact = true;                     // each an exact copy of the sender's next datagram or a later one
  int answered_after = 0;                // senders answered after the burst
  std::map<std::string, int> may_print;  // each line the server may print, and how often
};

asio::awaitable<void> burst_from_many_senders(asio::io_context* io, udp::endpoint server,
                                              burst_result* result) {
  {
    udp::socket vanishing = bind_loopback(*io);
    co_await vanishing.async_send_to(asio::buffer("gone", 4), server, asio::use_awaitable);
    ++result
          ->may_print[coronet::format_datagram_line("127.0.0.1", vanishing.local_endpoint().port(), "gone")];
  }  // closed: the echo to it is refused by the kernel
  std::vector<udp::socket> senders;
  senders.reserve(5);
  for (int i = 0; i < 5; ++i) senders.push_back(bind_loopback(*io));
  const auto payload = [](int round, std::size_t sender) {
    return std::to_string(round) + "/" + std::to_string(sender);
  };
  constexpr int rounds = 40;  // 5 x 40 = 200 datagrams, in flight together per round
  for (int round = 0; round < rounds; ++round) {
    for (std::size_t i = 0; i < senders.size(); ++i) {
      co_await senders[i].async_send_to(asio::buffer(payload(round, i)), server, asio::use_awaitable);
      ++result->may_print[coronet::format_datagram_line("127.0.0.1", senders[i].local_endpoint().port(),
                                                        payload(round, i))];
    }
  }
  for (std::size_t i = 0; i < senders.size(); ++i) {
    // The echoes come in the order of the datagrams; a lost one is skipped.
    int next = 0;
    while (next < rounds) {
      auto reply = co_await receive_within(&senders[i], patience);
      if (!reply) break;  // the rest was lost
      while (next < rounds && *reply != payload(next, i)) ++next;
      result->exact = result->exact && next < rounds;
      ++next;
      ++result->echoed;
    }
  }
  for (std::size_t i = 0; i < senders.size(); ++i) {
    const std::string last = "after " + std::to_string(i);
    std::vector<std::string> payloads{last};
    exchanges after;
    co_await exchange_each(&senders[i], server, std::move(payloads), &after);
    if (after.replies[0] == last) ++result->answered_after;
    result->may_print[coronet::format_datagram_line("127.0.0.1", senders[i].local_endpoint().port(), last)] +=
        after.sends[0];
  }
}

}  // namespace

TEST_CASE("udp_server echoes what arrives of a burst, exact and in order; a vanished sender ends nothing") {
  asio::io_context io;
  server_output output;
  auto server = open_test_server(io, loopback_server(), output.err);
  const auto server_endpoint = server.local_endpoint();
  burst_result result;
  run(io, serve_while(std::move(server), loopback_server(), &output,
                      burst_from_many_senders(&io, server_endpoint, &result)));
  INFO(result.echoed << " of the 200 datagrams of the burst echoed");
  CHECK(result.exact);
  CHECK(result.echoed > 0);
  CHECK(result.answered_after == 5);
  // Each line printed is a datagram that was sent, printed once for each copy.
  auto printed = result.may_print;
  int burst_lines = 0;
  for (const auto& line : lines_of(output.out.str())) {
    INFO(line);
    REQUIRE(printed[line] > 0);
    --printed[line];
    if (line.find(") said: after ") == std::string::npos && !line.ends_with(") said: gone")) ++burst_lines;
  }
  CHECK(burst_lines >= result.echoed);  // the server echoes what it has printed
  CHECK(output.err.str().find("error") == std::string::npos);
}
