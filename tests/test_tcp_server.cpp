// tcp_server in-process: the very coroutines main() runs, on an ephemeral
// loopback port, with scripted operator input and captured console output,
// talked to by client coroutines in the same io_context.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <chrono>
#include <exception>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "coronet/net.hpp"
#include "tcp_server.hpp"
#include "time_scale.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
using coronet::server_mode;
using coronet::server_options;
using namespace std::chrono_literals;
using namespace std::string_literals;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

void rethrow(const std::exception_ptr& e) {
  if (e) std::rethrow_exception(e);
}

// A server on 127.0.0.1:<ephemeral> with a scripted console. run() drives a
// test coroutine next to it, then shuts the server down the way main does
// (cancelling serve()) and checks that serve() returned.
struct test_server {
  explicit test_server(server_options options, unsigned threads = 1)
      : io(static_cast<int>(threads)),
        server_executor(io.get_executor()),
        threads(threads),
        mode(options.mode) {
    options.port = 0;
    options.threads = threads;
    if (threads > 1) server_executor = asio::make_strand(io);
    auto acceptor = coronet::open_listener(io.get_executor(), options, err);
    REQUIRE(acceptor);
    port = acceptor->local_endpoint().port();
    asio::co_spawn(server_executor, coronet::serve(std::move(*acceptor), options, console),
                   asio::bind_cancellation_slot(shutdown.slot(), [this](const std::exception_ptr& e) {
                     served = true;
                     rethrow(e);
                   }));
  }

  void stop_server() {
    asio::dispatch(server_executor, [this] { shutdown.emit(asio::cancellation_type::terminal); });
  }

  void run(asio::awaitable<void> test, bool stop_after = true) {
    INFO("mode: " << coronet::to_string(mode));
    bool done = false;
    asio::co_spawn(asio::make_strand(io), std::move(test), [&, stop_after](const std::exception_ptr& e) {
      done = true;
      if (stop_after || e) stop_server();
      rethrow(e);
    });
    const auto deadline = coronet::testing::hang_deadline(20s);
    std::vector<std::thread> helpers;
    for (unsigned i = 1; i < threads; ++i) helpers.emplace_back([this, deadline] { io.run_for(deadline); });
    io.run_for(deadline);
    for (auto& helper : helpers) helper.join();
    INFO(err.str());
    REQUIRE(done);
    REQUIRE(served);
  }

  std::string output() const { return out.str(); }
  std::string errors() const { return err.str(); }

  asio::io_context io;
  asio::any_io_executor server_executor;
  unsigned threads;
  server_mode mode;
  std::ostringstream out, err;
  coronet::console_input input{server_executor};
  coronet::console console{input, out, err, false};
  asio::cancellation_signal shutdown;
  std::uint16_t port = 0;
  bool served = false;
};

server_options mode(server_mode m) {
  server_options options;
  options.mode = m;
  return options;
}

// A test's client: a socket and what it has read past the last line.
struct peer {
  tcp::socket socket;
  std::string buffered;

  std::string name() const { return coronet::format_endpoint(socket.local_endpoint()); }
};

asio::awaitable<peer> connect_to(std::uint16_t port) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect({asio::ip::address_v4::loopback(), port}, asio::use_awaitable);
  co_return peer{std::move(socket), {}};
}

asio::awaitable<void> send(peer& p, std::string_view bytes) {
  co_await asio::async_write(p.socket, asio::buffer(bytes), asio::use_awaitable);
}

// The next line with its LF, or what came before EOF ("" at a clean EOF).
asio::awaitable<std::string> read_line(peer& p) {
  auto [ec, n] = co_await asio::async_read_until(p.socket, asio::dynamic_buffer(p.buffered), '\n', use_tuple);
  if (ec) n = p.buffered.size();
  std::string line = p.buffered.substr(0, n);
  p.buffered.erase(0, n);
  co_return line;
}

// Everything until the server closes the connection.
asio::awaitable<std::string> read_to_end(peer& p) {
  auto [ec, n] = co_await asio::async_read(p.socket, asio::dynamic_buffer(p.buffered), use_tuple);
  CHECK((ec == asio::error::eof || ec == asio::error::connection_reset));
  co_return std::exchange(p.buffered, {});
}

// Reads and checks; the co_await stays outside the CHECK macro (GCC 12).
asio::awaitable<void> expect_line(peer& p, std::string expected) {
  const std::string got = co_await read_line(p);
  CHECK(got == expected);
}

asio::awaitable<void> expect_end(peer& p, std::string expected) {
  const std::string got = co_await read_to_end(p);
  CHECK(got == expected);
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

// Polls until `condition` holds (the server prints from its own coroutines);
// past a hang deadline it fails.
asio::awaitable<void> eventually(const std::function<bool()>& condition) {
  const auto give_up = std::chrono::steady_clock::now() + coronet::testing::hang_deadline(5s);
  while (!condition() && std::chrono::steady_clock::now() < give_up) co_await sleep_for(10ms);
  REQUIRE(condition());
}

// Reads `count` lines that should all be `expected`, skipping notices ("* ...").
asio::awaitable<void> read_lines_from(peer& p, int count, std::string expected) {
  int received = 0;
  int equal = 0;
  while (received < count) {
    const std::string got = co_await read_line(p);
    if (got.empty()) break;  // dropped
    if (got.starts_with("* ")) continue;
    ++received;
    if (got == expected) ++equal;
  }
  CHECK(received == count);
  CHECK(equal == count);
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

// ---------------------------------------------------------------------------
// Starting
// ---------------------------------------------------------------------------

TEST_CASE("tcp_server says where it listens: the port the system picked") {
  test_server server(mode(server_mode::room));
  CHECK(server.errors() == "listening on 127.0.0.1:" + std::to_string(server.port) + " (room)\n");
  CHECK(server.port != 0);
  server.run([]() -> asio::awaitable<void> { co_return; }());
}

TEST_CASE("tcp_server reports a port in use as one line naming the address and the reason") {
  asio::io_context io;
  tcp::acceptor taken(io, {asio::ip::address_v4::loopback(), 0});
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

// ---------------------------------------------------------------------------
// echo
// ---------------------------------------------------------------------------

TEST_CASE("echo sends every line back byte for byte") {
  test_server server(mode(server_mode::echo));
  server.run([](std::uint16_t port) -> asio::awaitable<void> {
    auto client = co_await connect_to(port);
    // CRLF, a lone CR, NUL, invalid UTF-8, telnet IAC bytes, an escape
    // sequence, an empty line: all data, all returned untouched.
    const std::string lines = "crlf\r\ncr\rinside\nnul\0byte\n\xff\xfe\xc3\n"s +
                              "\xff\xfb\x01\xff\xfd\x03\n\x1b]0;title\x07\x1b[2J\n\n\r\n";
    co_await send(client, lines);
    std::string back;
    while (back.size() < lines.size()) back += co_await read_line(client);
    CHECK(back == lines);
  }(server.port));
}

TEST_CASE("echo answers many pipelined lines in order") {
  test_server server(mode(server_mode::echo));
  server.run([](std::uint16_t port) -> asio::awaitable<void> {
    auto client = co_await connect_to(port);
    std::string lines;
    for (int i = 0; i < 5000; ++i) lines += "line " + std::to_string(i) + "\n";
    co_await send(client, lines);
    std::string back(lines.size(), '\0');
    co_await asio::async_read(client.socket, asio::buffer(back), asio::use_awaitable);
    CHECK(back == lines);
  }(server.port));
}

TEST_CASE("echo sends 'q' back and then ends the session without echoing what follows") {
  test_server server(mode(server_mode::echo));
  server.run([](std::uint16_t port) -> asio::awaitable<void> {
    auto client = co_await connect_to(port);
    co_await send(client, "one\nQ\r\nnot echoed\n");
    co_await expect_end(client, "one\nQ\r\n");
  }(server.port));
}

TEST_CASE("echo returns the last unterminated line when the peer half-closes") {
  test_server server(mode(server_mode::echo));
  server.run([](std::uint16_t port) -> asio::awaitable<void> {
    auto client = co_await connect_to(port);
    co_await send(client, "full\npartial");
    client.socket.shutdown(tcp::socket::shutdown_send);
    co_await expect_end(client, "full\npartial");
  }(server.port));
}

TEST_CASE("a line of exactly max-line passes; one byte more closes only that connection") {
  server_options options = mode(server_mode::echo);
  options.max_line = 100;
  test_server server(options);
  server.run([](std::uint16_t port) -> asio::awaitable<void> {
    auto bystander = co_await connect_to(port);
    auto client = co_await connect_to(port);
    const std::string at_limit = std::string(100, 'a') + "\r\n";
    co_await send(client, at_limit);
    co_await expect_line(client, at_limit);
    co_await send(client, "fine\n" + std::string(101, 'b') + "\n");
    co_await expect_end(client, "fine\nerror: line longer than 100 bytes\n");
    co_await send(bystander, "still here\n");
    co_await expect_line(bystander, "still here\n");
  }(server.port));
}

TEST_CASE("an idle connection is closed at the idle timeout but an active one is not") {
  server_options options = mode(server_mode::echo);
  options.idle_timeout = 300ms;
  test_server server(options);
  server.run([](std::uint16_t port) -> asio::awaitable<void> {
    auto idle = co_await connect_to(port);
    auto trickling = co_await connect_to(port);  // bytes, but never a whole line
    auto active = co_await connect_to(port);
    const auto start = std::chrono::steady_clock::now();
    bool trickle_refused = false;
    for (int i = 0; i < 8; ++i) {
      co_await send(active, "tick\n");
      co_await expect_line(active, "tick\n");
      if (!trickle_refused) {  // it fails once the server has closed it
        auto [ec, n] = co_await asio::async_write(trickling.socket, asio::buffer("x", 1), use_tuple);
        trickle_refused = ec.failed();
      }
      co_await sleep_for(100ms);
    }
    co_await expect_end(idle, "error: idle timeout\n");
    co_await expect_end(trickling, "error: idle timeout\n");
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    co_await send(active, "still served\n");
    co_await expect_line(active, "still served\n");
  }(server.port));
}

TEST_CASE("past max-connections a client gets 'error: server full' and a freed place is given again") {
  server_options options = mode(server_mode::echo);
  options.max_connections = 2;
  test_server server(options);
  server.run([](std::uint16_t port) -> asio::awaitable<void> {
    auto first = co_await connect_to(port);
    auto second = co_await connect_to(port);
    co_await send(second, "hi\n");
    co_await expect_line(second, "hi\n");  // both admitted by now
    auto third = co_await connect_to(port);
    co_await expect_end(third, "error: server full\n");
    co_await send(first, "q\n");
    co_await expect_end(first, "q\n");
    // The first one's place frees once its session has ended.
    std::string answer;
    for (int attempt = 0; attempt < 50 && answer != "again\n"; ++attempt) {
      auto fourth = co_await connect_to(port);
      co_await send(fourth, "again\n");
      answer = co_await read_line(fourth);
      if (answer != "again\n") co_await sleep_for(20ms);
    }
    CHECK(answer == "again\n");
    co_await send(second, "unaffected\n");
    co_await expect_line(second, "unaffected\n");
  }(server.port));
}

TEST_CASE("exactly max-connections clients are all admitted and served at once") {
  server_options options = mode(server_mode::echo);
  options.max_connections = 3;
  test_server server(options);
  server.run([](test_server& server) -> asio::awaitable<void> {
    std::vector<peer> clients;
    clients.reserve(3);
    for (int i = 0; i < 3; ++i) clients.push_back(co_await connect_to(server.port));
    for (int round = 0; round < 3; ++round) {
      for (auto& client : clients) co_await send(client, client.name() + " " + std::to_string(round) + "\n");
      for (auto& client : clients)
        co_await expect_line(client, client.name() + " " + std::to_string(round) + "\n");
    }
    CHECK_FALSE(contains(server.errors(), "server full"));
  }(server));
}

TEST_CASE("one client past max-connections gets 'error: server full' and the admitted ones go on") {
  server_options options = mode(server_mode::echo);
  options.max_connections = 3;
  options.verbose = true;  // the operator hears who was turned away
  test_server server(options);
  server.run([](test_server& server) -> asio::awaitable<void> {
    std::vector<peer> clients;
    for (int i = 0; i < 3; ++i) {
      clients.push_back(co_await connect_to(server.port));
      co_await send(clients.back(), "in\n");
      co_await expect_line(clients.back(), "in\n");  // admitted before the next one connects
    }
    auto one_too_many = co_await connect_to(server.port);
    const std::string turned_away = one_too_many.name();
    co_await expect_end(one_too_many, "error: server full\n");
    co_await eventually([&] { return contains(server.errors(), turned_away + " turned away: server full"); });
    for (auto& client : clients) {
      co_await send(client, "unaffected\n");
      co_await expect_line(client, "unaffected\n");
    }
  }(server));
}

// The idle timeout counts from the last complete line. These two tests keep
// a margin of a quarter of it on either side, enough for a loaded machine or valgrind.
TEST_CASE("a client sending a line just before each idle timeout stays connected through several") {
  server_options options = mode(server_mode::echo);
  options.idle_timeout = 400ms;
  test_server server(options);
  server.run([](std::uint16_t port) -> asio::awaitable<void> {
    auto client = co_await connect_to(port);
    for (int i = 0; i < 4; ++i) {  // 1.2 s in all: three idle timeouts
      co_await sleep_for(300ms);
      co_await send(client, "just in time\n");
      co_await expect_line(client, "just in time\n");
    }
  }(server.port));
}

TEST_CASE("a client silent just past the idle timeout gets 'error: idle timeout'; an active one goes on") {
  server_options options = mode(server_mode::echo);
  options.idle_timeout = 400ms;
  test_server server(options);
  server.run([](std::uint16_t port) -> asio::awaitable<void> {
    auto late = co_await connect_to(port);
    auto active = co_await connect_to(port);
    co_await send(late, "one line\n");
    co_await expect_line(late, "one line\n");
    for (int i = 0; i < 2; ++i) {  // 500 ms of silence from `late`
      co_await sleep_for(250ms);
      co_await send(active, "tick\n");
      co_await expect_line(active, "tick\n");
    }
    co_await expect_end(late, "error: idle timeout\n");
    co_await send(active, "still served\n");
    co_await expect_line(active, "still served\n");
  }(server.port));
}

TEST_CASE("shutdown tells every client 'server shutting down' then closes them and returns") {
  test_server server(mode(server_mode::echo));
  server.run(
      [](test_server& server) -> asio::awaitable<void> {
        auto a = co_await connect_to(server.port);
        auto b = co_await connect_to(server.port);
        co_await send(a, "ready\n");
        co_await expect_line(a, "ready\n");
        co_await send(b, "half a li");  // an unfinished line does not hold shutdown up
        co_await sleep_for(50ms);
        const auto start = std::chrono::steady_clock::now();
        server.stop_server();
        co_await expect_end(a, "server shutting down\n");
        co_await expect_end(b, "server shutting down\n");
        CHECK(std::chrono::steady_clock::now() - start < 1s);
        // No longer listening.
        tcp::socket late(co_await asio::this_coro::executor);
        auto [ec] = co_await late.async_connect({asio::ip::address_v4::loopback(), server.port}, use_tuple);
        CHECK(ec);
      }(server),
      false);
}

// ---------------------------------------------------------------------------
// The limits and the shutdown, in every mode
// ---------------------------------------------------------------------------

server_mode any_mode() {
  return GENERATE(server_mode::chat, server_mode::echo, server_mode::room);
}

// The next line that is not a notice ("* ... joined", "* ... left").
asio::awaitable<std::string> read_line_skipping_notices(peer& p) {
  std::string line = co_await read_line(p);
  while (line.starts_with("* ")) line = co_await read_line(p);
  co_return line;
}

// `p` is still served, as its mode serves it: its line comes back (echo),
// reaches the operator's stdout (chat) or reaches `other` (room).
asio::awaitable<void> expect_served(test_server& server, peer& p, peer& other, std::string text) {
  co_await send(p, text + "\n");
  const std::string shown = "[" + p.name() + "] " + text + "\n";
  switch (server.mode) {
    case server_mode::echo:
      co_await expect_line(p, text + "\n");
      break;
    case server_mode::chat:
      co_await eventually([&] { return contains(server.output(), shown); });
      break;
    case server_mode::room: {
      const std::string got = co_await read_line_skipping_notices(other);
      CHECK(got == shown);
      break;
    }
  }
}

// What `p` receives until the server closes it, ending with `last`.
asio::awaitable<void> expect_end_with(peer& p, std::string last) {
  const std::string got = co_await read_to_end(p);
  INFO("received: " << got);
  CHECK(got.ends_with(last));
}

TEST_CASE("every mode: a line of max-line is served; one byte more gets the error and closes only it") {
  server_options options = mode(any_mode());
  options.max_line = 100;
  test_server server(options);
  server.run([](test_server& server) -> asio::awaitable<void> {
    auto a = co_await connect_to(server.port);
    auto b = co_await connect_to(server.port);
    co_await expect_served(server, a, b, std::string(100, 'a'));
    co_await send(a, std::string(101, 'b') + "\n");
    co_await expect_end_with(a, "error: line longer than 100 bytes\n");
    auto c = co_await connect_to(server.port);
    co_await expect_served(server, b, c, "still here");
  }(server));
}

TEST_CASE("every mode: an overlong line is refused before its end arrives") {
  server_options options = mode(any_mode());
  options.max_line = 1000;
  test_server server(options);
  server.run([](test_server& server) -> asio::awaitable<void> {
    auto client = co_await connect_to(server.port);
    co_await send(client, std::string(5000, 'x'));  // no LF, ever
    co_await expect_end(client, "error: line longer than 1000 bytes\n");
  }(server));
}

TEST_CASE("every mode: a silent connection gets 'error: idle timeout'; active ones go on") {
  server_options options = mode(any_mode());
  options.idle_timeout = 300ms;
  test_server server(options);
  server.run([](test_server& server) -> asio::awaitable<void> {
    auto idle = co_await connect_to(server.port);
    auto a = co_await connect_to(server.port);
    auto b = co_await connect_to(server.port);
    for (int i = 0; i < 6; ++i) {  // 600 ms: two idle timeouts
      co_await expect_served(server, a, b, "tick " + std::to_string(i));
      co_await expect_served(server, b, a, "tock " + std::to_string(i));
      co_await sleep_for(100ms);
    }
    co_await expect_end_with(idle, "error: idle timeout\n");
    co_await expect_served(server, a, b, "still served");
  }(server));
}

TEST_CASE("every mode: past max-connections a client gets 'error: server full'; the others go on") {
  server_options options = mode(any_mode());
  options.max_connections = 2;
  test_server server(options);
  server.run([](test_server& server) -> asio::awaitable<void> {
    auto a = co_await connect_to(server.port);
    auto b = co_await connect_to(server.port);
    co_await expect_served(server, b, a, "admitted");  // both are in by now
    auto c = co_await connect_to(server.port);
    co_await expect_end(c, "error: server full\n");
    co_await expect_served(server, a, b, "unaffected");
  }(server));
}

TEST_CASE("every mode: shutdown tells every client 'server shutting down' within a second") {
  test_server server(mode(any_mode()));
  server.run(
      [](test_server& server) -> asio::awaitable<void> {
        auto a = co_await connect_to(server.port);
        auto b = co_await connect_to(server.port);
        co_await expect_served(server, a, b, "ready");
        co_await send(b, "half a li");  // an unfinished line does not hold shutdown up
        co_await sleep_for(50ms);
        const auto start = std::chrono::steady_clock::now();
        server.stop_server();
        co_await expect_end_with(a, "server shutting down\n");
        co_await expect_end_with(b, "server shutting down\n");
        CHECK(std::chrono::steady_clock::now() - start < 1s);
      }(server),
      false);
}

TEST_CASE("echo on two threads serves every connection and every byte") {
  test_server server(mode(server_mode::echo), 2);
  server.run([](std::uint16_t port) -> asio::awaitable<void> {
    std::vector<peer> clients;
    for (int i = 0; i < 20; ++i) clients.push_back(co_await connect_to(port));
    for (int round = 0; round < 20; ++round) {
      for (std::size_t i = 0; i < clients.size(); ++i)
        co_await send(clients[i], std::to_string(i) + "," + std::to_string(round) + "\n");
      for (std::size_t i = 0; i < clients.size(); ++i)
        co_await expect_line(clients[i], std::to_string(i) + "," + std::to_string(round) + "\n");
    }
  }(server.port));
}

// ---------------------------------------------------------------------------
// chat
// ---------------------------------------------------------------------------

TEST_CASE("chat shows each client's line on stdout with its address and made terminal-safe") {
  test_server server(mode(server_mode::chat));
  server.run([](test_server& server) -> asio::awaitable<void> {
    auto client = co_await connect_to(server.port);
    const std::string name = client.name();
    co_await send(client, "hello there\r\n\x1b]0;owned\x07\x1b[2J\n\n");
    co_await eventually([&] { return contains(server.output(), "[" + name + "] \n"); });
    CHECK(server.output() ==
          "[" + name + "] hello there\n[" + name + "] \\x1b]0;owned\\x07\\x1b[2J\n[" + name + "] \n");
    CHECK(contains(server.errors(), name + " connected\n"));
  }(server));
}

TEST_CASE("chat sends each typed line to every client") {
  test_server server(mode(server_mode::chat));
  server.run([](test_server& server) -> asio::awaitable<void> {
    auto a = co_await connect_to(server.port);
    auto b = co_await connect_to(server.port);
    co_await eventually([&] { return contains(server.errors(), b.name() + " connected"); });
    server.input.push("good evening");
    server.input.push("");
    co_await expect_line(a, "good evening\n");
    co_await expect_line(b, "good evening\n");
    co_await expect_line(a, "\n");
    co_await expect_line(b, "\n");
  }(server));
}

TEST_CASE("chat: a client's 'q' ends only its own session") {
  test_server server(mode(server_mode::chat));
  server.run([](test_server& server) -> asio::awaitable<void> {
    auto leaving = co_await connect_to(server.port);
    auto staying = co_await connect_to(server.port);
    const std::string name = leaving.name();
    co_await send(leaving, "bye now\nq\nnever shown\n");
    co_await expect_end(leaving, "");
    co_await eventually([&] { return contains(server.errors(), name + " disconnected"); });
    CHECK_FALSE(contains(server.output(), "never shown"));
    CHECK_FALSE(contains(server.output(), "] q\n"));
    co_await send(staying, "still talking\n");
    co_await eventually([&] { return contains(server.output(), "] still talking\n"); });
  }(server));
}

TEST_CASE("chat: the operator's 'q' sends q to every client and ends them while the server keeps listening") {
  test_server server(mode(server_mode::chat));
  server.run([](test_server& server) -> asio::awaitable<void> {
    auto a = co_await connect_to(server.port);
    auto b = co_await connect_to(server.port);
    co_await eventually([&] { return contains(server.errors(), b.name() + " connected"); });
    server.input.push("last words");
    server.input.push("q");
    co_await expect_end(a, "last words\nq\n");
    co_await expect_end(b, "last words\nq\n");
    auto later = co_await connect_to(server.port);
    co_await eventually([&] { return contains(server.errors(), later.name() + " connected"); });
    server.input.push("welcome back");
    co_await expect_line(later, "welcome back\n");
  }(server));
}

TEST_CASE("chat: the end of the operator's input is not a quit") {
  test_server server(mode(server_mode::chat));
  server.run([](test_server& server) -> asio::awaitable<void> {
    auto before = co_await connect_to(server.port);
    server.input.push_end();
    co_await sleep_for(50ms);
    auto after = co_await connect_to(server.port);
    co_await send(before, "one\n");
    co_await send(after, "two\n");
    co_await eventually([&] { return contains(server.output(), "] two\n"); });
    CHECK(contains(server.output(), "] one\n"));
  }(server));
}

TEST_CASE("chat: a client that resets in the middle of a line leaves nothing behind") {
  test_server server(mode(server_mode::chat));
  server.run([](test_server& server) -> asio::awaitable<void> {
    auto client = co_await connect_to(server.port);
    const std::string name = client.name();
    co_await send(client, "half of a li");
    client.socket.set_option(asio::socket_base::linger(true, 0));  // close() sends RST
    client.socket.close();
    co_await eventually([&] { return contains(server.errors(), name + " disconnected"); });
    auto next = co_await connect_to(server.port);
    co_await send(next, "fine\n");
    co_await eventually([&] { return contains(server.output(), "] fine\n"); });
    CHECK_FALSE(contains(server.output(), "half"));
  }(server));
}

TEST_CASE("chat shutdown reaches every client") {
  test_server server(mode(server_mode::chat));
  server.run(
      [](test_server& server) -> asio::awaitable<void> {
        auto a = co_await connect_to(server.port);
        co_await eventually([&] { return contains(server.errors(), a.name() + " connected"); });
        server.stop_server();
        co_await expect_end(a, "server shutting down\n");
      }(server),
      false);
}

// ---------------------------------------------------------------------------
// room
// ---------------------------------------------------------------------------

TEST_CASE("room relays each line to every other client with join and leave notices") {
  test_server server(mode(server_mode::room));
  server.run([](std::uint16_t port) -> asio::awaitable<void> {
    auto a = co_await connect_to(port);
    auto b = co_await connect_to(port);
    co_await expect_line(a, "* " + b.name() + " joined\n");
    auto c = co_await connect_to(port);
    co_await expect_line(a, "* " + c.name() + " joined\n");
    co_await expect_line(b, "* " + c.name() + " joined\n");
    co_await send(a, "hi all\n");
    co_await expect_line(b, "[" + a.name() + "] hi all\n");
    co_await expect_line(c, "[" + a.name() + "] hi all\n");
    co_await send(b, "hi a\n");
    co_await expect_line(a, "[" + b.name() + "] hi a\n");  // a never got its own line
    co_await expect_line(c, "[" + b.name() + "] hi a\n");
    const std::string c_name = c.name();
    co_await send(c, "q\n");
    co_await expect_end(c, "");
    co_await expect_line(a, "* " + c_name + " left\n");
    co_await expect_line(b, "* " + c_name + " left\n");
  }(server.port));
}

TEST_CASE("room drops a client that stops reading while the others get every line") {
  server_options options = mode(server_mode::room);
  options.room_queue = 64 * 1024;
  test_server server(options);
  server.run([](test_server& server) -> asio::awaitable<void> {
    auto sleeper = co_await connect_to(server.port);
    sleeper.socket.set_option(asio::socket_base::receive_buffer_size(4096));
    auto reader = co_await connect_to(server.port);
    auto sender = co_await connect_to(server.port);
    co_await expect_line(reader, "* " + sender.name() + " joined\n");
    const std::string sleeper_name = sleeper.name();
    const std::string line(1000, 'z');
    const std::string expected = "[" + sender.name() + "] " + line + "\n";
    const int count = 20000;  // 20 MB through the room
    std::size_t received = 0;
    bool all_equal = true;
    for (int i = 0; i < count; i += 100) {
      std::string batch;
      for (int j = 0; j < 100; ++j) batch += line + "\n";
      co_await send(sender, batch);
      for (int j = 0; j < 100; ++j) {
        auto got = co_await read_line(reader);
        if (got.starts_with("* ")) got = co_await read_line(reader);  // the sleeper's leave notice
        all_equal = all_equal && got == expected;
        ++received;
      }
    }
    CHECK(all_equal);
    CHECK(received == count);
    co_await eventually([&] { return contains(server.errors(), "dropped " + sleeper_name); });
  }(server));
}

// Before the sender was held back, the reader fell more than room_queue
// behind during the burst and was dropped along with the sleeper.
// More than the server's send buffer for a client that does not read can
// grow to. That is at most the third figure of Linux's tcp_wmem (4 MiB by
// default); twice it, or 8 MiB where it cannot be read.
std::size_t larger_than_socket_buffers() {
  std::ifstream tcp_wmem("/proc/sys/net/ipv4/tcp_wmem");
  std::size_t least = 0;
  std::size_t initial = 0;
  std::size_t most = 0;
  if (tcp_wmem >> least >> initial >> most) return 2 * most;
  return std::size_t{8} << 20;
}

TEST_CASE("room holds a fast sender back: a reader gets a whole burst, a sleeper is dropped") {
  const unsigned threads = GENERATE(1u, 2u);
  server_options options = mode(server_mode::room);
  options.room_queue = 64 * 1024;
  // The reader must keep up within the stall timeout; under valgrind it
  // reads many times slower, so the timeout stretches with the time scale.
  options.stall_timeout = coronet::testing::hang_deadline(300ms);
  test_server server(options, threads);
  server.run([](test_server& server) -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    auto sleeper = co_await connect_to(server.port);
    sleeper.socket.set_option(asio::socket_base::receive_buffer_size(4096));
    auto reader = co_await connect_to(server.port);
    auto sender = co_await connect_to(server.port);
    co_await expect_line(reader, "* " + sender.name() + " joined\n");
    const std::string sleeper_name = sleeper.name();
    const std::string line(1000, 'z');
    const std::string expected = "[" + sender.name() + "] " + line + "\n";
    // In one write: more than the kernel can buffer for the sleeper, so that
    // its queue must fill (4 MB did not always: Linux grows a send buffer up
    // to 4 MiB), and over a hundred times the queue limit.
    const int count = static_cast<int>(larger_than_socket_buffers() / (line.size() + 1)) + 1;
    std::string burst;
    for (int i = 0; i < count; ++i) burst += line + "\n";
    co_await (send(sender, burst) && read_lines_from(reader, count, expected));
    co_await eventually([&] { return contains(server.errors(), "dropped " + sleeper_name); });
    CHECK_FALSE(contains(server.errors(), "dropped " + reader.name()));
  }(server));
}

TEST_CASE("room on two threads relays every line") {
  test_server server(mode(server_mode::room), 2);
  server.run([](std::uint16_t port) -> asio::awaitable<void> {
    auto a = co_await connect_to(port);
    auto b = co_await connect_to(port);
    co_await expect_line(a, "* " + b.name() + " joined\n");
    for (int i = 0; i < 200; ++i) co_await send(a, std::to_string(i) + "\n");
    for (int i = 0; i < 200; ++i) co_await expect_line(b, "[" + a.name() + "] " + std::to_string(i) + "\n");
  }(server.port));
}

TEST_CASE("room: a line of exactly max-line is relayed; one byte more closes only its sender") {
  server_options options = mode(server_mode::room);
  options.max_line = 100;
  test_server server(options);
  server.run([](std::uint16_t port) -> asio::awaitable<void> {
    auto sender = co_await connect_to(port);
    auto a = co_await connect_to(port);
    auto b = co_await connect_to(port);
    co_await expect_line(sender, "* " + a.name() + " joined\n");
    co_await expect_line(sender, "* " + b.name() + " joined\n");
    co_await expect_line(a, "* " + b.name() + " joined\n");
    const std::string sender_name = sender.name();
    const std::string at_limit(100, 'a');
    co_await send(sender, at_limit + "\n");
    co_await expect_line(a, "[" + sender_name + "] " + at_limit + "\n");
    co_await expect_line(b, "[" + sender_name + "] " + at_limit + "\n");
    co_await send(sender, std::string(101, 'b') + "\n");
    co_await expect_end(sender, "error: line longer than 100 bytes\n");
    co_await expect_line(a, "* " + sender_name + " left\n");
    co_await expect_line(b, "* " + sender_name + " left\n");
    co_await send(a, "unaffected\n");
    co_await expect_line(b, "[" + a.name() + "] unaffected\n");
  }(server.port));
}

namespace {

// The room_queue limit, to the byte. A room of three: a sleeper that never
// reads, a reader, a sender. The sender's first line is larger than the
// socket buffers take, so the sleeper's writer stays in the middle of writing
// it, and whatever is relayed after it waits in the sleeper's queue, whose
// size the test then knows exactly.
struct stuck_room {
  peer sleeper, reader, sender;
  std::string sleeper_name, sender_prefix;  // "[SENDER] "
};

server_options stuck_room_options() {
  server_options options = mode(server_mode::room);
  options.max_line = larger_than_socket_buffers();
  options.room_queue = 4096;
  options.stall_timeout = 200ms;
  return options;
}

asio::awaitable<stuck_room> open_stuck_room(std::uint16_t port) {
  auto sleeper = co_await connect_to(port);
  sleeper.socket.set_option(asio::socket_base::receive_buffer_size(4096));
  auto reader = co_await connect_to(port);
  auto sender = co_await connect_to(port);
  co_await expect_line(reader, "* " + sender.name() + " joined\n");
  const std::string prefix = "[" + sender.name() + "] ";
  const std::string blocking(larger_than_socket_buffers(), 'B');
  co_await send(sender, blocking + "\n");
  // The reader has it: it was queued for the sleeper at the same moment.
  co_await expect_line(reader, prefix + blocking + "\n");
  const std::string sleeper_name = sleeper.name();
  co_return stuck_room{std::move(sleeper), std::move(reader), std::move(sender), sleeper_name, prefix};
}

// Lines for the sender whose relayed copies ("[SENDER] text\n") add up to
// exactly `total` bytes.
std::vector<std::string> lines_relayed_as(std::size_t total, std::size_t prefix_size) {
  const std::size_t framing = prefix_size + 1;  // the prefix and the LF
  std::vector<std::string> lines;
  std::size_t left = total;
  while (left >= 2 * (framing + 100)) {
    lines.push_back(std::string(100, 'x') + "\n");
    left -= framing + 100;
  }
  const std::size_t half = left / 2;  // the rest in two lines, both long enough for their framing
  lines.push_back(std::string(half - framing, 'y') + "\n");
  lines.push_back(std::string(left - half - framing, 'z') + "\n");
  return lines;
}

// Sends those lines and checks that the reader gets them all.
asio::awaitable<void> relay_exactly(stuck_room& room, std::size_t total) {
  const auto lines = lines_relayed_as(total, room.sender_prefix.size());
  std::string all;
  for (const auto& line : lines) all += line;
  co_await send(room.sender, all);
  for (const auto& line : lines) co_await expect_line(room.reader, room.sender_prefix + line);
}

}  // namespace

TEST_CASE("room: a queue of exactly room_queue bytes is no stall; its client stays and nobody is held back") {
  test_server server(stuck_room_options());
  server.run([](test_server& server) -> asio::awaitable<void> {
    auto room = co_await open_stuck_room(server.port);
    co_await relay_exactly(room, 4096);  // the reader gets them all: the sender is not held back
    co_await sleep_for(600ms);           // three stall timeouts
    CHECK_FALSE(contains(server.errors(), "dropped"));
    co_await send(room.sender, "later\n");
    co_await expect_line(room.reader, room.sender_prefix + "later\n");  // and no "left" notice before it
  }(server));
}

TEST_CASE("room: a queue one byte over room_queue for stall_timeout drops that client only") {
  test_server server(stuck_room_options());
  server.run([](test_server& server) -> asio::awaitable<void> {
    auto room = co_await open_stuck_room(server.port);
    co_await relay_exactly(room, 4097);
    co_await eventually([&] {
      return contains(server.errors(),
                      "dropped " + room.sleeper_name + ": it does not read (over 4096 bytes waiting)");
    });
    co_await expect_line(room.reader, "* " + room.sleeper_name + " left\n");
    co_await send(room.sender, "later\n");
    co_await expect_line(room.reader, room.sender_prefix + "later\n");
  }(server));
}
