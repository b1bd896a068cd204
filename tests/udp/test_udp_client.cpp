// SPDX-License-Identifier: BSL-1.0
// udp_client in-process on loopback, against small test servers that echo,
// drop, hold back or never answer: what it prints, how often it sends a line
// again, late echoes, the quit word, refusals and the next address, --no-wait,
// payload edges.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "coronet/awaitable.hpp"
#include "coronet/console.hpp"
#include "coronet/protocol.hpp"
#include "support.hpp"
#include "udp_client/udp_client.hpp"

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using namespace coronet::testing;
using Catch::Matchers::ContainsSubstring;
using coronet::udp;

namespace {

const auto loopback = asio::ip::make_address("127.0.0.1");

// What a terminal shows once the client's prompts are taken out, and how many there were.
std::pair<std::string, std::size_t> without_prompts(std::string text) {
  std::size_t prompts = 0;
  for (auto at = text.find(coronet::send_prompt); at != std::string::npos;
       at = text.find(coronet::send_prompt)) {
    text.erase(at, coronet::send_prompt.size());
    ++prompts;
  }
  return {text, prompts};
}

// Whether `part` is `whole` with some of it left out, in the same order.
bool is_subsequence(const std::vector<std::string>& part, const std::vector<std::string>& whole) {
  auto at = whole.begin();
  for (const auto& item : part) {
    at = std::find(at, whole.end(), item);
    if (at == whole.end()) return false;
    ++at;
  }
  return true;
}

// ---------------------------------------------------------------------------
// udp_client
// ---------------------------------------------------------------------------

struct client_result {
  int exit_code = -1;
  std::string out, err;
};

// A test server: ignores the first `drop` datagrams, echoes the rest, counts all.
// `received` is a pointer: the count must outlive this coroutine, which
// suspends in every receive.
asio::awaitable<void> echo_after_dropping(udp::socket socket, int drop, int* received) {
  std::vector<char> buffer(65536);
  udp::endpoint sender;
  while (true) {
    auto [ec, size] = co_await socket.async_receive_from(asio::buffer(buffer), sender, use_nothrow_awaitable);
    if (ec) co_return;  // cancelled: the client is done
    if (++*received <= drop) continue;
    co_await socket.async_send_to(asio::buffer(buffer.data(), size), sender, use_nothrow_awaitable);
  }
}

// A test server that holds back the echo of the first datagram until the
// second one arrives, then sends both echoes: the first is late.
asio::awaitable<void> hold_first_echo(udp::socket socket) {
  std::vector<char> buffer(65536);
  udp::endpoint sender;
  std::string held;
  for (int received = 1;; ++received) {
    auto [ec, size] = co_await socket.async_receive_from(asio::buffer(buffer), sender, use_nothrow_awaitable);
    if (ec) co_return;
    const std::string payload(buffer.data(), size);
    if (received == 1) {
      held = payload;
      continue;
    }
    if (received == 2) co_await socket.async_send_to(asio::buffer(held), sender, use_nothrow_awaitable);
    co_await socket.async_send_to(asio::buffer(payload), sender, use_nothrow_awaitable);
  }
}

// Stands in for a server that never answers: waits until cancelled.
asio::awaitable<void> stay_silent() {
  asio::steady_timer forever(co_await asio::this_coro::executor, 1h);
  co_await forever.async_wait(use_nothrow_awaitable);
}

// What has arrived at `socket` and not been read yet, without waiting.
std::vector<std::string> queued_datagrams(udp::socket& socket) {
  socket.non_blocking(true);
  std::vector<std::string> datagrams;
  std::string buffer(65536, '\0');
  coronet::error_code ec;
  while (true) {
    const std::size_t size = socket.receive(asio::buffer(buffer), 0, ec);
    if (ec) return datagrams;  // would_block: nothing more
    datagrams.push_back(buffer.substr(0, size));
  }
}

coronet::udp_client_options client_of(const udp::socket& server) {
  coronet::udp_client_options options;
  options.host = "127.0.0.1";
  options.port = server.local_endpoint().port();
  options.timeout = 100ms;
  return options;
}

// Runs the client on `lines` (then the end of input, if `end`) until it
// returns; the test server runs beside it and is cancelled then.
asio::awaitable<void> client_beside(coronet::udp_client_options options, coronet::console console,
                                    asio::awaitable<void> server, int* exit_code) {
  auto first = co_await (coronet::run_udp_client(std::move(options), console) || std::move(server));
  REQUIRE(first.index() == 0);
  *exit_code = std::get<0>(first);
}

client_result run_client(asio::io_context& io, coronet::udp_client_options options,
                         const std::vector<std::string>& lines, asio::awaitable<void> server,
                         bool interactive = false, bool end = true) {
  scripted_console console(io.get_executor(), interactive);
  for (const auto& line : lines) console.input.push(line);
  if (end) console.input.push_end();
  client_result result;
  run(io, client_beside(std::move(options), console.con, std::move(server), &result.exit_code));
  result.out = console.out.str();
  result.err = console.err.str();
  return result;
}

TEST_CASE("udp_client prints each echo bare when stdout is not a terminal, and exits 0") {
  asio::io_context io;
  auto server = bind_loopback(io);
  auto options = client_of(server);
  int received = 0;
  const auto result = run_client(io, options, {"one", "two", "", "one"},
                                 echo_after_dropping(std::move(server), 0, &received));
  CHECK(result.exit_code == 0);
  CHECK(result.out == "one\ntwo\n\none\n");
  CHECK(result.err.empty());
  CHECK(received == 4);
}

TEST_CASE("udp_client labels echoes with the round-trip time on a terminal, terminal-safe") {
  asio::io_context io;
  auto server = bind_loopback(io);
  const auto options = client_of(server);
  int received = 0;
  const auto result = run_client(io, options, {"hi", "\x1b]0;owned\x07\x1b[2J"},
                                 echo_after_dropping(std::move(server), 0, &received), true);
  CHECK(result.exit_code == 0);
  const auto [shown, prompts] = without_prompts(result.out);
  CHECK(prompts == 3);  // before each line typed, and before the end of input
  const auto lines = lines_of(shown);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].starts_with("RECEIVED: hi (rtt "));
  CHECK(lines[0].ends_with(" ms)"));
  CHECK(lines[1].starts_with("RECEIVED: \\x1b]0;owned\\x07\\x1b[2J (rtt "));
  CHECK(result.out.find('\x1b') == std::string::npos);
}

TEST_CASE("udp_client resends exactly --retries times, then gives up on that line") {
  const int dropped = GENERATE(0, 1, 2, 3);
  asio::io_context io;
  auto server = bind_loopback(io);
  auto options = client_of(server);
  options.retries = 2;
  const auto port = std::to_string(server.local_endpoint().port());
  int received = 0;
  const auto result =
      run_client(io, options, {"again"}, echo_after_dropping(std::move(server), dropped, &received));
  if (dropped <= 2) {
    CHECK(result.exit_code == 0);
    CHECK(result.out == "again\n");
    CHECK(result.err.empty());
    CHECK(received == dropped + 1);
  } else {
    CHECK(result.exit_code == 1);
    CHECK(result.out.empty());
    CHECK(result.err == "no reply from 127.0.0.1:" + port + " after 3 tries\n");
    CHECK(received == 3);
  }
}

TEST_CASE("udp_client with --retries 0 tries once and goes on with the next line") {
  asio::io_context io;
  auto server = bind_loopback(io);
  auto options = client_of(server);
  options.retries = 0;
  const auto port = std::to_string(server.local_endpoint().port());
  int received = 0;
  const auto result =
      run_client(io, options, {"lost", "kept"}, echo_after_dropping(std::move(server), 1, &received));
  CHECK(result.exit_code == 1);
  CHECK(result.out == "kept\n");
  CHECK(result.err == "no reply from 127.0.0.1:" + port + " after 1 try\n");
  CHECK(received == 2);
}

TEST_CASE("udp_client --verbose says when it sends a line again") {
  asio::io_context io;
  auto server = bind_loopback(io);
  auto options = client_of(server);
  options.retries = 1;
  options.verbose = true;
  int received = 0;
  const auto result =
      run_client(io, options, {"twice"}, echo_after_dropping(std::move(server), 1, &received));
  CHECK(result.exit_code == 0);
  CHECK(result.out == "twice\n");
  CHECK(result.err.find("no reply within 100 ms, sending again\n") != std::string::npos);
  CHECK(received == 2);
}

TEST_CASE("udp_client skips a late echo of an earlier line instead of taking it for the current one") {
  asio::io_context io;
  auto server = bind_loopback(io);
  auto options = client_of(server);
  options.retries = 0;
  options.verbose = true;
  const auto result = run_client(io, options, {"first", "second"}, hold_first_echo(std::move(server)));
  CHECK(result.exit_code == 1);
  CHECK(result.out == "second\n");
  CHECK(result.err.find("after 1 try\n") != std::string::npos);
  CHECK(result.err.find("ignored a late or unexpected reply: first\n") != std::string::npos);
}

// A test server, and the operator beside it, for one line typed twice: the
// first echo comes only after the client has given that line up, and the
// operator types the line again once that late echo waits at the client.
// The second echo is held back 60 ms: a client that took the late echo for
// it would show a round trip of about nothing.
asio::awaitable<void> echo_late_then_type_again(udp::socket socket, coronet::console_input* input) {
  std::vector<char> buffer(65536);
  udp::endpoint sender;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  auto [ec, size] = co_await socket.async_receive_from(asio::buffer(buffer), sender, use_nothrow_awaitable);
  if (ec) co_return;
  const std::string line(buffer.data(), size);
  pause.expires_after(200ms);  // the client gives up after 100 ms
  co_await pause.async_wait(use_nothrow_awaitable);
  co_await socket.async_send_to(asio::buffer(line), sender, use_nothrow_awaitable);
  pause.expires_after(50ms);  // the late echo is now queued at the client
  co_await pause.async_wait(use_nothrow_awaitable);
  input->push(line);
  input->push_end();
  auto [again_error, again_size] =
      co_await socket.async_receive_from(asio::buffer(buffer), sender, use_nothrow_awaitable);
  if (again_error) co_return;
  pause.expires_after(60ms);
  co_await pause.async_wait(use_nothrow_awaitable);
  co_await socket.async_send_to(asio::buffer(buffer.data(), again_size), sender, use_nothrow_awaitable);
  co_await stay_silent();
}

TEST_CASE("udp_client drops a late echo that waits for it, even of the same line typed again") {
  asio::io_context io;
  auto server = bind_loopback(io);
  auto options = client_of(server);
  options.retries = 0;
  options.verbose = true;
  scripted_console console(io.get_executor(), true);
  console.input.push("same");
  int exit_code = -1;
  run(io, client_beside(options, console.con, echo_late_then_type_again(std::move(server), &console.input),
                        &exit_code));
  CHECK(exit_code == 1);  // the first try went unanswered
  CHECK(console.err.str().find("dropped a late reply: same\n") != std::string::npos);
  const auto lines = lines_of(without_prompts(console.out.str()).first);
  REQUIRE(lines.size() == 1);
  REQUIRE(lines[0].starts_with("RECEIVED: same (rtt "));
  const double rtt_ms = std::stod(lines[0].substr(std::string_view("RECEIVED: same (rtt ").size()));
  CHECK(rtt_ms >= 50.0);
}

TEST_CASE("udp_client ends at 'q' or 'Q' without sending it") {
  const std::string quit = GENERATE(std::string("q"), std::string("Q"));
  asio::io_context io;
  auto server = bind_loopback(io);
  const auto options = client_of(server);
  int received = 0;
  // No end of input: the quit word alone ends the client.
  const auto result = run_client(io, options, {"a", quit, "b"},
                                 echo_after_dropping(std::move(server), 0, &received), false, false);
  CHECK(result.exit_code == 0);
  CHECK(result.out == "a\n");
  CHECK(received == 1);
}

TEST_CASE("udp_client says at once that nobody listens, and exits 1") {
  asio::io_context io;
  std::uint16_t closed_port = 0;
  {
    auto probe = bind_loopback(io);
    closed_port = probe.local_endpoint().port();
  }
  coronet::udp_client_options options;
  options.host = "127.0.0.1";
  options.port = closed_port;
  options.timeout = 5s;
  const auto started = std::chrono::steady_clock::now();
  const auto result = run_client(io, options, {"anyone?", "more"}, stay_silent());
  CHECK(std::chrono::steady_clock::now() - started < 4s);  // well within the timeout
  CHECK(result.exit_code == 1);
  CHECK(result.err == "no server at 127.0.0.1:" + std::to_string(closed_port) + " (connection refused)\n");
  CHECK(result.out.empty());
}

// A name may have several addresses (localhost: 127.0.0.1 and ::1): while
// none has answered, a refusal sends the client on to the next one.
asio::awaitable<void> lines_beside(std::vector<udp::endpoint> servers, coronet::udp_client_options options,
                                   coronet::console console, asio::awaitable<void> server, int* exit_code) {
  auto first =
      co_await (coronet::send_lines(std::move(servers), std::move(options), console) || std::move(server));
  REQUIRE(first.index() == 0);
  *exit_code = std::get<0>(first);
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

TEST_CASE("udp_client --no-wait sends every line and expects nothing, like the seed") {
  asio::io_context io;
  udp::socket listener = bind_loopback(io);  // never answers
  auto options = client_of(listener);
  options.wait_for_reply = false;
  const auto result = run_client(io, options, {"one", "", "three"}, stay_silent());
  CHECK(result.exit_code == 0);
  CHECK(result.out.empty());
  CHECK(result.err.empty());
  // Sent without waiting: UDP may drop some, never reorder or repeat them here.
  const auto queued = queued_datagrams(listener);
  const std::vector<std::string> sent{"one", "", "three"};
  CHECK(!queued.empty());
  CHECK(is_subsequence(queued, sent));
}

TEST_CASE("udp_client sends payload edges whole: 1 byte, 65507 bytes, NUL and invalid UTF-8") {
  asio::io_context io;
  auto server = bind_loopback(io);
  const auto options = client_of(server);
  int received = 0;
  const std::string largest(coronet::max_udp_payload_v4, 'L');
  const std::string binary("a\0b\xff\xc3", 5);
  const auto result =
      run_client(io, options, {"1", largest, binary}, echo_after_dropping(std::move(server), 0, &received));
  CHECK(result.exit_code == 0);
  CHECK(result.out == "1\n" + largest + "\n" + binary + "\n");
  CHECK(received == 3);
}

TEST_CASE("udp_client refuses a line too large for one datagram, clearly, and goes on") {
  const std::size_t size = GENERATE(coronet::max_udp_payload_v4 + 1, std::size_t{70000});
  asio::io_context io;
  auto server = bind_loopback(io);
  const auto options = client_of(server);
  int received = 0;
  const auto result = run_client(io, options, {std::string(size, 'x'), "after"},
                                 echo_after_dropping(std::move(server), 0, &received));
  CHECK(result.exit_code == 1);
  CHECK(result.out == "after\n");
  CHECK(result.err == "error: a line of " + std::to_string(size) +
                          " bytes does not fit in one datagram (at most 65507), not sent\n");
  CHECK(received == 1);
}

}  // namespace
