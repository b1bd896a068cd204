// SPDX-License-Identifier: BSL-1.0
// udp_server in-process on loopback with an ephemeral port, against a raw
// test socket: it prints every datagram in the seed's format and echoes it
// whole, over IPv4 and IPv6, with --no-reply and --verbose, and through a
// burst from many senders.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch_message.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "coronet/protocol.hpp"
#include "support.hpp"
#include "udp_server/udp_server.hpp"

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using namespace coronet::testing;
using coronet::udp;

namespace {

// The next datagram on `socket`, or nothing if none comes within `patience`.
asio::awaitable<std::optional<std::string>> receive_within(udp::socket* socket,
                                                           std::chrono::milliseconds patience) {
  std::string buffer(65536, '\0');
  asio::steady_timer timer(socket->get_executor(), patience);
  auto first = co_await (socket->async_receive(asio::buffer(buffer), use_nothrow_awaitable) ||
                         timer.async_wait(use_nothrow_awaitable));
  if (first.index() == 1) co_return std::nullopt;
  auto [ec, size] = std::get<0>(first);
  REQUIRE_FALSE(ec);
  buffer.resize(size);
  co_return buffer;
}

// ---------------------------------------------------------------------------
// udp_server
// ---------------------------------------------------------------------------

struct server_output {
  watched_output out, err;
};

udp::socket open_test_server(asio::io_context& io, const coronet::udp_server_options& options,
                             std::ostream& err) {
  auto socket = coronet::open_udp_server(io.get_executor(), options, err);
  REQUIRE(socket);
  return std::move(*socket);  // NOLINT(bugprone-unchecked-optional-access): REQUIRE throws when empty
}

coronet::udp_server_options loopback_server(bool reply = true) {
  coronet::udp_server_options options;
  options.port = 0;
  options.reply = reply;
  return options;
}

// UDP may drop a datagram or its echo, so a test that expects an answer
// sends again when none comes: only a sender that waits for each answer may
// expect every one. The server then prints each copy that arrived.
constexpr int tries = 5;
constexpr auto patience = 1000ms;  // for an echo that comes at once, unless the datagram was lost

// Sends each payload from `client` until its echo comes, at most `tries`
// times; collects the echo (or nothing: none came, or none was exact) and how
// many times it was sent.
struct exchanges {
  std::vector<std::optional<std::string>> replies;
  std::vector<int> sends;
};

asio::awaitable<void> exchange_each(udp::socket* client, udp::endpoint server,
                                    std::vector<std::string> payloads, exchanges* result) {
  for (const auto& payload : payloads) {
    std::optional<std::string> reply;
    int sends = 0;
    while (!reply && sends < tries) {
      co_await client->async_send_to(asio::buffer(payload), server, asio::use_awaitable);
      ++sends;
      reply = co_await receive_within(client, patience);
      // Skips a late echo of an earlier datagram: only this one's counts.
      while (reply && *reply != payload) reply = co_await receive_within(client, patience);
    }
    result->replies.push_back(std::move(reply));
    result->sends.push_back(sends);
  }
}

// Serves until the body is done; the operator then cancels the server.
asio::awaitable<void> serve_while(udp::socket server, coronet::udp_server_options options,
                                  server_output* output, asio::awaitable<void> body) {
  co_await (coronet::serve_datagrams(std::move(server), std::move(options), &output->out, &output->err) ||
            std::move(body));
}

// What the server printed for datagrams sent one after the other, each until
// it was answered: each expected line in turn, once for every copy of its
// datagram that arrived (at least one, at most as many as were sent), and
// nothing else.
void check_printed(const std::string& printed, const std::vector<std::string>& expected,
                   const std::vector<int>& sends) {
  INFO("printed:\n" << printed);
  const auto lines = lines_of(printed);
  std::size_t at = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    int copies = 0;
    for (; at < lines.size() && lines[at] == expected[i]; ++at) ++copies;
    CHECK(copies >= 1);
    CHECK(copies <= sends[i]);
  }
  CHECK(at == lines.size());
}

TEST_CASE("udp_server says where it listens, with the real port for --port 0") {
  asio::io_context io;
  std::ostringstream err;
  auto server = open_test_server(io, loopback_server(), err);
  const auto port = server.local_endpoint().port();
  CHECK(port != 0);
  CHECK(err.str() == "listening on 127.0.0.1:" + std::to_string(port) + " (udp)\n");
}

TEST_CASE("udp_server reports an address it cannot bind in one line") {
  asio::io_context io;
  auto taken = bind_loopback(io);
  coronet::udp_server_options options;
  options.port = taken.local_endpoint().port();
  std::ostringstream err;
  CHECK_FALSE(coronet::open_udp_server(io.get_executor(), options, err));
  CHECK(err.str().starts_with("error: cannot listen on 127.0.0.1:" + std::to_string(options.port) +
                              " (udp): "));
  CHECK(lines_of(err.str()).size() == 1);

  options.listen = "not-an-address";
  std::ostringstream err2;
  CHECK_FALSE(coronet::open_udp_server(io.get_executor(), options, err2));
  CHECK(err2.str().find("not an IP address") != std::string::npos);
}

TEST_CASE("udp_server prints every datagram in the seed's format and echoes it whole") {
  const std::string payload = GENERATE(
      std::string{}, std::string("x"), std::string("hello\n"), std::string(coronet::max_udp_payload_v4, 'm'),
      std::string("a\0b\xff\xfe z", 7), std::string("\x1b]0;owned\x07\x1b[2J\x9b"));
  asio::io_context io;
  server_output output;
  auto server = open_test_server(io, loopback_server(), output.err);
  const auto server_endpoint = server.local_endpoint();
  auto client = bind_loopback(io);
  exchanges sent;
  run(io, serve_while(std::move(server), loopback_server(), &output,
                      exchange_each(&client, server_endpoint, {payload}, &sent)));

  REQUIRE(sent.replies.size() == 1);
  REQUIRE(sent.replies[0]);
  CHECK(sent.replies[0] == payload);
  const auto port = client.local_endpoint().port();
  check_printed(output.out.str(), {coronet::format_datagram_line("127.0.0.1", port, payload)}, sent.sends);
  CHECK(output.out.str().starts_with("(127.0.0.1 " + std::to_string(port) + ") said: "));
  for (const char control : {'\x1b', '\x07', '\0'})
    CHECK(output.out.str().find(control) == std::string::npos);
}

TEST_CASE("udp_server over IPv6 echoes the largest payload, 65527 bytes") {
  asio::io_context io;
  coronet::udp_server_options options = loopback_server();
  options.listen = "::1";
  server_output output;
  auto server = coronet::open_udp_server(io.get_executor(), options, output.err);
  if (!server) SKIP("no IPv6 loopback here: " << output.err.str());
  auto socket = std::move(*server);  // NOLINT(bugprone-unchecked-optional-access): SKIP threw if empty
  const auto server_endpoint = socket.local_endpoint();
  udp::socket client(io, udp::endpoint(asio::ip::make_address("::1"), 0));
  const std::string payload(coronet::max_udp_payload_v6, '6');
  exchanges sent;
  run(io, serve_while(std::move(socket), options, &output,
                      exchange_each(&client, server_endpoint, {payload}, &sent)));
  REQUIRE(sent.replies.size() == 1);
  CHECK(sent.replies[0] == payload);
  const auto port = client.local_endpoint().port();
  check_printed(output.out.str(), {coronet::format_datagram_line("::1", port, payload)}, sent.sends);
}

// Sends each payload from `client` until the server has printed it (its only
// answer with --no-reply), at most `tries` times, and collects whatever
// comes back within a short while after that; counts the sends.
asio::awaitable<void> send_each_until_printed(udp::socket* client, udp::endpoint server,
                                              std::vector<std::string> payloads, watched_output* printed,
                                              exchanges* result) {
  for (const auto& payload : payloads) {
    const std::string line =
        coronet::format_datagram_line("127.0.0.1", client->local_endpoint().port(), payload);
    int sends = 0;
    bool shown = false;
    while (!shown && sends < tries) {
      co_await client->async_send_to(asio::buffer(payload), server, asio::use_awaitable);
      ++sends;
      shown = co_await printed->wait_for(line, patience);  // woken by the server's print
    }
    result->replies.push_back(co_await receive_within(client, 300ms));
    result->sends.push_back(sends);
  }
}

TEST_CASE("udp_server --no-reply prints and sends nothing back, like the seed") {
  asio::io_context io;
  server_output output;
  auto server = open_test_server(io, loopback_server(false), output.err);
  const auto server_endpoint = server.local_endpoint();
  auto client = bind_loopback(io);
  exchanges sent;
  run(io, serve_while(std::move(server), loopback_server(false), &output,
                      send_each_until_printed(&client, server_endpoint, {"one", "two"}, &output.out, &sent)));
  CHECK(sent.replies == std::vector<std::optional<std::string>>{std::nullopt, std::nullopt});
  const auto port = client.local_endpoint().port();
  check_printed(output.out.str(),
                {coronet::format_datagram_line("127.0.0.1", port, "one"),
                 coronet::format_datagram_line("127.0.0.1", port, "two")},
                sent.sends);
}

TEST_CASE("udp_server --verbose reports the size and sender of every datagram on stderr") {
  asio::io_context io;
  auto options = loopback_server();
  options.verbose = true;
  server_output output;
  auto server = open_test_server(io, options, output.err);
  const auto server_endpoint = server.local_endpoint();
  auto client = bind_loopback(io);
  exchanges sent;
  run(io, serve_while(std::move(server), options, &output,
                      exchange_each(&client, server_endpoint, {"12345"}, &sent)));
  CHECK(sent.replies == std::vector<std::optional<std::string>>{"12345"});
  CHECK(output.err.str().ends_with(
      "received 5 bytes from 127.0.0.1:" + std::to_string(client.local_endpoint().port()) + "\n"));
}

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

}  // namespace
