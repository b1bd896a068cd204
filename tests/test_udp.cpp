// udp_server and udp_client, driven in-process on loopback with ephemeral
// ports: the server against a raw test socket, the client against small test
// servers that echo, drop, hold back or never answer.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "coronet/console.hpp"
#include "coronet/net.hpp"
#include "time_scale.hpp"
#include "udp_client.hpp"
#include "udp_server.hpp"

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;
using coronet::udp;

namespace {

constexpr auto as_value = asio::as_tuple(asio::use_awaitable);
const auto loopback = asio::ip::make_address("127.0.0.1");

// Runs a test's coroutine to its end; exceptions (failed REQUIREs included)
// come out of io.run_for() into Catch2.
void run(asio::io_context& io, asio::awaitable<void> body) {
  bool done = false;
  asio::co_spawn(io, std::move(body), [&done](const std::exception_ptr& e) {
    done = true;
    if (e) std::rethrow_exception(e);
  });
  io.run_for(coronet::testing::hang_deadline(20s));
  REQUIRE(done);
}

udp::socket bind_loopback(asio::io_context& io) {
  return udp::socket(io, udp::endpoint(loopback, 0));
}

// The next datagram on `socket`, or nothing if none comes within `patience`.
asio::awaitable<std::optional<std::string>> receive_within(udp::socket& socket,
                                                           std::chrono::milliseconds patience) {
  std::string buffer(65536, '\0');
  asio::steady_timer timer(socket.get_executor(), patience);
  auto first = co_await (socket.async_receive(asio::buffer(buffer), as_value) || timer.async_wait(as_value));
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
  std::ostringstream out, err;
};

udp::socket open_test_server(asio::io_context& io, const coronet::udp_server_options& options,
                             std::ostream& err) {
  auto socket = coronet::open_udp_server(io.get_executor(), options, err);
  REQUIRE(socket);
  return std::move(*socket);
}

coronet::udp_server_options loopback_server(bool reply = true) {
  coronet::udp_server_options options;
  options.port = 0;
  options.reply = reply;
  return options;
}

// Sends each payload from `client` and collects what comes back (nothing
// within 300 ms counts as no reply).
asio::awaitable<void> send_each(udp::socket& client, udp::endpoint server, std::vector<std::string> payloads,
                                std::vector<std::optional<std::string>>& replies) {
  for (const auto& payload : payloads) {
    co_await client.async_send_to(asio::buffer(payload), server, asio::use_awaitable);
    replies.push_back(co_await receive_within(client, 300ms));
  }
}

// Serves until the body is done; the operator then cancels the server.
asio::awaitable<void> serve_while(udp::socket server, coronet::udp_server_options options,
                                  server_output& output, asio::awaitable<void> body) {
  co_await (coronet::serve_datagrams(std::move(server), std::move(options), output.out, output.err) ||
            std::move(body));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
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
  std::vector<std::optional<std::string>> replies;
  run(io, serve_while(std::move(server), loopback_server(), output,
                      send_each(client, server_endpoint, {payload}, replies)));

  REQUIRE(replies.size() == 1);
  REQUIRE(replies[0]);
  CHECK(*replies[0] == payload);
  const auto port = client.local_endpoint().port();
  CHECK(output.out.str() == coronet::format_datagram_line("127.0.0.1", port, payload) + "\n");
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
  const auto server_endpoint = server->local_endpoint();
  udp::socket client(io, udp::endpoint(asio::ip::make_address("::1"), 0));
  const std::string payload(coronet::max_udp_payload_v6, '6');
  std::vector<std::optional<std::string>> replies;
  run(io, serve_while(std::move(*server), options, output,
                      send_each(client, server_endpoint, {payload}, replies)));
  REQUIRE(replies.size() == 1);
  CHECK(replies[0] == payload);
  CHECK(output.out.str().starts_with("(::1 "));
}

TEST_CASE("udp_server --no-reply prints and sends nothing back, like the seed") {
  asio::io_context io;
  server_output output;
  auto server = open_test_server(io, loopback_server(false), output.err);
  const auto server_endpoint = server.local_endpoint();
  auto client = bind_loopback(io);
  std::vector<std::optional<std::string>> replies;
  run(io, serve_while(std::move(server), loopback_server(false), output,
                      send_each(client, server_endpoint, {"one", "two"}, replies)));
  CHECK(replies == std::vector<std::optional<std::string>>{std::nullopt, std::nullopt});
  CHECK(lines_of(output.out.str()).size() == 2);
}

TEST_CASE("udp_server --verbose reports the size and sender of every datagram on stderr") {
  asio::io_context io;
  auto options = loopback_server();
  options.verbose = true;
  server_output output;
  auto server = open_test_server(io, options, output.err);
  const auto server_endpoint = server.local_endpoint();
  auto client = bind_loopback(io);
  std::vector<std::optional<std::string>> replies;
  run(io, serve_while(std::move(server), options, output,
                      send_each(client, server_endpoint, {"12345"}, replies)));
  CHECK(replies.size() == 1);
  CHECK(output.err.str().ends_with(
      "received 5 bytes from 127.0.0.1:" + std::to_string(client.local_endpoint().port()) + "\n"));
}

// Many senders at once, more datagrams in a row than the server handles in
// one turn, and a sender that vanishes before its echo: every remaining
// sender gets every echo.
asio::awaitable<void> burst_from_many_senders(asio::io_context& io, udp::endpoint server, int& echoed) {
  {
    udp::socket vanishing = bind_loopback(io);
    co_await vanishing.async_send_to(asio::buffer("gone", 4), server, asio::use_awaitable);
  }  // closed: the echo to it is refused by the kernel
  std::vector<udp::socket> senders;
  for (int i = 0; i < 5; ++i) senders.push_back(bind_loopback(io));
  constexpr int rounds = 40;  // 5 x 40 = 200 datagrams, in flight together per round
  for (int round = 0; round < rounds; ++round) {
    for (std::size_t i = 0; i < senders.size(); ++i) {
      const std::string payload = std::to_string(round) + "/" + std::to_string(i);
      co_await senders[i].async_send_to(asio::buffer(payload), server, asio::use_awaitable);
    }
  }
  for (int round = 0; round < rounds; ++round) {
    for (std::size_t i = 0; i < senders.size(); ++i) {
      auto reply = co_await receive_within(senders[i], 2000ms);
      REQUIRE(reply);
      CHECK(*reply == std::to_string(round) + "/" + std::to_string(i));
      ++echoed;
    }
  }
}

TEST_CASE("udp_server answers every sender of a burst, and a vanished sender ends nothing") {
  asio::io_context io;
  server_output output;
  auto server = open_test_server(io, loopback_server(), output.err);
  const auto server_endpoint = server.local_endpoint();
  int echoed = 0;
  run(io, serve_while(std::move(server), loopback_server(), output,
                      burst_from_many_senders(io, server_endpoint, echoed)));
  CHECK(echoed == 200);
  CHECK(lines_of(output.out.str()).size() == 201);
  CHECK(output.err.str().find("error") == std::string::npos);
}

// ---------------------------------------------------------------------------
// udp_client
// ---------------------------------------------------------------------------

struct client_result {
  int exit_code = -1;
  std::string out, err;
};

// A test server: ignores the first `drop` datagrams, echoes the rest, counts all.
asio::awaitable<void> echo_after_dropping(udp::socket socket, int drop, int& received) {
  std::vector<char> buffer(65536);
  udp::endpoint sender;
  while (true) {
    auto [ec, size] = co_await socket.async_receive_from(asio::buffer(buffer), sender, as_value);
    if (ec) co_return;  // cancelled: the client is done
    if (++received <= drop) continue;
    co_await socket.async_send_to(asio::buffer(buffer.data(), size), sender, as_value);
  }
}

// A test server that holds back the echo of the first datagram until the
// second one arrives, then sends both echoes: the first is late.
asio::awaitable<void> hold_first_echo(udp::socket socket) {
  std::vector<char> buffer(65536);
  udp::endpoint sender;
  std::string held;
  for (int received = 1;; ++received) {
    auto [ec, size] = co_await socket.async_receive_from(asio::buffer(buffer), sender, as_value);
    if (ec) co_return;
    const std::string payload(buffer.data(), size);
    if (received == 1) {
      held = payload;
      continue;
    }
    if (received == 2) co_await socket.async_send_to(asio::buffer(held), sender, as_value);
    co_await socket.async_send_to(asio::buffer(payload), sender, as_value);
  }
}

// Stands in for a server that never answers: waits until cancelled.
asio::awaitable<void> stay_silent() {
  asio::steady_timer forever(co_await asio::this_coro::executor, 1h);
  co_await forever.async_wait(as_value);
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
asio::awaitable<void> client_beside(coronet::udp_client_options options, const coronet::console& console,
                                    asio::awaitable<void> server, int& exit_code) {
  auto first = co_await (coronet::run_udp_client(std::move(options), console) || std::move(server));
  REQUIRE(first.index() == 0);
  exit_code = std::get<0>(first);
}

client_result run_client(asio::io_context& io, coronet::udp_client_options options,
                         const std::vector<std::string>& lines, asio::awaitable<void> server,
                         bool interactive = false, bool end = true) {
  coronet::console_input input(io.get_executor());
  for (const auto& line : lines) input.push(line);
  if (end) input.push_end();
  std::ostringstream out, err;
  const coronet::console console{input, out, err, interactive};
  client_result result;
  run(io, client_beside(std::move(options), console, std::move(server), result.exit_code));
  result.out = out.str();
  result.err = err.str();
  return result;
}

TEST_CASE("udp_client prints each echo bare when stdout is not a terminal, and exits 0") {
  asio::io_context io;
  auto server = bind_loopback(io);
  auto options = client_of(server);
  int received = 0;
  const auto result =
      run_client(io, options, {"one", "two", "", "one"}, echo_after_dropping(std::move(server), 0, received));
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
                                 echo_after_dropping(std::move(server), 0, received), true);
  CHECK(result.exit_code == 0);
  const auto lines = lines_of(result.out);
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
      run_client(io, options, {"again"}, echo_after_dropping(std::move(server), dropped, received));
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
      run_client(io, options, {"lost", "kept"}, echo_after_dropping(std::move(server), 1, received));
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
  const auto result = run_client(io, options, {"twice"}, echo_after_dropping(std::move(server), 1, received));
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
asio::awaitable<void> echo_late_then_type_again(udp::socket socket, coronet::console_input& input) {
  std::vector<char> buffer(65536);
  udp::endpoint sender;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  auto [ec, size] = co_await socket.async_receive_from(asio::buffer(buffer), sender, as_value);
  if (ec) co_return;
  const std::string line(buffer.data(), size);
  pause.expires_after(200ms);  // the client gives up after 100 ms
  co_await pause.async_wait(as_value);
  co_await socket.async_send_to(asio::buffer(line), sender, as_value);
  pause.expires_after(50ms);  // the late echo is now queued at the client
  co_await pause.async_wait(as_value);
  input.push(line);
  input.push_end();
  auto [again_error, again_size] = co_await socket.async_receive_from(asio::buffer(buffer), sender, as_value);
  if (again_error) co_return;
  pause.expires_after(60ms);
  co_await pause.async_wait(as_value);
  co_await socket.async_send_to(asio::buffer(buffer.data(), again_size), sender, as_value);
  co_await stay_silent();
}

TEST_CASE("udp_client drops a late echo that waits for it, even of the same line typed again") {
  asio::io_context io;
  auto server = bind_loopback(io);
  auto options = client_of(server);
  options.retries = 0;
  options.verbose = true;
  coronet::console_input input(io.get_executor());
  input.push("same");
  std::ostringstream out, err;
  const coronet::console console{input, out, err, true};
  int exit_code = -1;
  run(io, client_beside(options, console, echo_late_then_type_again(std::move(server), input), exit_code));
  CHECK(exit_code == 1);  // the first try went unanswered
  CHECK(err.str().find("dropped a late reply: same\n") != std::string::npos);
  const auto lines = lines_of(out.str());
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
                                 echo_after_dropping(std::move(server), 0, received), false, false);
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

TEST_CASE("udp_client --no-wait sends every line and expects nothing, like the seed") {
  asio::io_context io;
  udp::socket listener = bind_loopback(io);  // never answers
  auto options = client_of(listener);
  options.wait_for_reply = false;
  const auto result = run_client(io, options, {"one", "", "three"}, stay_silent());
  CHECK(result.exit_code == 0);
  CHECK(result.out.empty());
  CHECK(result.err.empty());
  CHECK(queued_datagrams(listener) == std::vector<std::string>{"one", "", "three"});
}

TEST_CASE("udp_client sends payload edges whole: 1 byte, 65507 bytes, NUL and invalid UTF-8") {
  asio::io_context io;
  auto server = bind_loopback(io);
  const auto options = client_of(server);
  int received = 0;
  const std::string largest(coronet::max_udp_payload_v4, 'L');
  const std::string binary("a\0b\xff\xc3", 5);
  const auto result =
      run_client(io, options, {"1", largest, binary}, echo_after_dropping(std::move(server), 0, received));
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
                                 echo_after_dropping(std::move(server), 0, received));
  CHECK(result.exit_code == 1);
  CHECK(result.out == "after\n");
  CHECK(result.err == "error: a line of " + std::to_string(size) +
                          " bytes does not fit in one datagram (at most 65507), not sent\n");
  CHECK(received == 1);
}

}  // namespace
