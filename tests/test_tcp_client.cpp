// SPDX-License-Identifier: BSL-1.0
// tcp_client in-process: the client's own coroutines, with scripted typing
// and captured output, against small servers written here as coroutines on
// ephemeral loopback ports.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coronet/console.hpp"
#include "coronet/protocol.hpp"
#include "posix_io.hpp"
#include "support.hpp"
#include "tcp_client/client.hpp"
#include "time_scale.hpp"

namespace asio = boost::asio;
namespace posix = coronet::testing::posix;
using namespace coronet::testing;
using namespace std::chrono_literals;
using Catch::Matchers::ContainsSubstring;
using coronet::client_options;
using coronet::error_code;
using coronet::tcp;

namespace {

constexpr std::string_view prompt = "SEND (q or Q to quit): ";

tcp::acceptor listen_on_loopback(asio::io_context& io,
                                 const asio::ip::address& address = asio::ip::make_address("127.0.0.1")) {
  return {io, tcp::endpoint(address, 0)};
}

// Bound but not listening: a connection request there is refused.
tcp::acceptor bind_without_listening(asio::io_context& io, const char* address) {
  const tcp::endpoint endpoint(asio::ip::make_address(address), 0);
  tcp::acceptor acceptor(io, endpoint.protocol());
  acceptor.bind(endpoint);
  return acceptor;
}

client_options options_for(const tcp::acceptor& acceptor) {
  client_options options;
  options.host = acceptor.local_endpoint().address().to_string();
  options.port = acceptor.local_endpoint().port();
  return options;
}

// Runs the client until it ends (at most a generous functional deadline) and
// returns its exit code, nothing if it did not end.
std::optional<int> run_client(asio::io_context& io, client_options options, coronet::console con) {
  std::optional<int> exit_code;
  asio::co_spawn(io, coronet::run_client(std::move(options), con),
                 [&](const std::exception_ptr& e, int code) {
                   rethrow(e);
                   exit_code = code;
                   io.stop();  // servers that would wait for more are not the test's concern
                 });
  io.run_for(coronet::testing::hang_deadline(10s));
  return exit_code;
}

// A client test: the client's console, a loopback port for the test server
// and the client's options pointing at it.
struct client_test {
  explicit client_test(bool interactive = false, std::size_t max_line = coronet::default_max_line)
      : console(io.get_executor(), interactive, max_line),
        acceptor(listen_on_loopback(io)),
        options(options_for(acceptor)) {}

  // Starts the test server beside the client.
  void serve(asio::awaitable<void> server) { spawn(io, std::move(server)); }
  // Runs the client to its end; its exit code.
  std::optional<int> run() { return run_client(io, options, console.con); }

  asio::io_context io;
  scripted_console console;
  tcp::acceptor acceptor;
  client_options options;
};

// --- test servers: each accepts one connection -----------------------------

// Echoes bytes until the client half-closes, then says "bye" and closes: the
// "bye" reaches the client only if it keeps reading after its end of input.
asio::awaitable<void> echo_then_bye(tcp::acceptor acceptor) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  char data[4096];
  while (true) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(data), use_nothrow_awaitable);
    if (ec) break;
    co_await asio::async_write(socket, asio::buffer(data, n), asio::use_awaitable);
  }
  co_await asio::async_write(socket, asio::buffer(std::string_view("bye\n")), asio::use_awaitable);
}

// Sends `text`, then keeps the connection open until the client closes it.
asio::awaitable<void> send_and_wait(tcp::acceptor acceptor, std::string text) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  co_await asio::async_write(socket, asio::buffer(text), asio::use_awaitable);
  char data[4096];
  while (true) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(data), use_nothrow_awaitable);
    if (ec) co_return;
  }
}

// Sends `text` and closes.
asio::awaitable<void> send_and_close(tcp::acceptor acceptor, std::string text) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  co_await asio::async_write(socket, asio::buffer(text), asio::use_awaitable);
}

// Never answers: keeps what the client sends until the client closes.
// `received` is a pointer: the string must outlive this coroutine, which
// suspends in every read.
asio::awaitable<void> record_silently(tcp::acceptor acceptor, std::string* received) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  char data[4096];
  while (true) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(data), use_nothrow_awaitable);
    if (ec) co_return;
    received->append(data, n);
  }
}

// Runs connect_to_first and notes where it connected.
asio::awaitable<void> connect_and_note(std::vector<tcp::endpoint> endpoints, coronet::console con,
                                       std::optional<tcp::endpoint>* connected) {
  auto [ec, socket] = co_await coronet::connect_to_first(std::move(endpoints), 2s, con, false);
  REQUIRE_FALSE(ec);
  *connected = socket.remote_endpoint();
}

}  // namespace

// --- output ----------------------------------------------------------------

TEST_CASE("piped: stdout is exactly the received lines; the end of input half-closes") {
  client_test t;
  t.serve(echo_then_bye(std::move(t.acceptor)));
  t.console.input.push("a");
  t.console.input.push("b");
  t.console.input.push_end();
  CHECK(t.run() == 0);
  // "bye" is sent only after the server saw the half-close, and printed only
  // because the client kept reading after it.
  CHECK(t.console.out.str() == "a\nb\nbye\n");
  CHECK_THAT(t.console.err.str(), ContainsSubstring("the server closed the connection"));
}

TEST_CASE("piped: received bytes pass through untouched (CRLF, NUL, escapes, a last line without LF)") {
  client_test t;
  const std::string sent("crlf\r\nnul\0byte\n\x1b[31mred\nlast", 27);
  t.serve(send_and_close(std::move(t.acceptor), sent));
  CHECK(t.run() == 0);
  CHECK(t.console.out.str() == sent);
}

TEST_CASE("terminal: a prompt, received lines labelled and terminal-safe") {
  client_test t(/*interactive=*/true);
  t.serve(echo_then_bye(std::move(t.acceptor)));
  t.console.input.push("hello");
  t.console.input.push("\x1b]0;owned\x07");  // comes back as an attempt on the terminal's title
  t.console.input.push_end();
  CHECK(t.run() == 0);
  const auto out = t.console.out.str();
  CHECK(out.starts_with(prompt));
  CHECK_THAT(out, ContainsSubstring("RECEIVED: hello"));
  CHECK_THAT(out, ContainsSubstring("RECEIVED: \\x1b]0;owned\\x07"));
  CHECK_THAT(out, ContainsSubstring("RECEIVED: bye"));
  CHECK(out.find('\x1b') == std::string::npos);
  CHECK(out.find('\x07') == std::string::npos);
  CHECK_THAT(t.console.err.str(), ContainsSubstring("connected to 127.0.0.1:"));
}

TEST_CASE("piped: nothing but received data on stdout, diagnostics on stderr") {
  client_test t;
  t.options.verbose = true;
  t.serve(send_and_close(std::move(t.acceptor), "only this\n"));
  CHECK(t.run() == 0);
  CHECK(t.console.out.str() == "only this\n");
  CHECK_THAT(t.console.err.str(), ContainsSubstring("trying 127.0.0.1:"));
  CHECK_THAT(t.console.err.str(), ContainsSubstring("connected to 127.0.0.1:"));
}

// --- full duplex -----------------------------------------------------------

TEST_CASE("full duplex: a server line is printed while the client waits for typing") {
  client_test t;
  t.serve(send_and_wait(std::move(t.acceptor), "welcome\n"));
  // Nothing is typed until the greeting has been printed; then the operator quits.
  t.serve([](client_test* t) -> asio::awaitable<void> {
    co_await t->console.out.expect("welcome\n");  // woken by the client's print
    t->console.input.push("q");
  }(&t));
  CHECK(t.run() == 0);
  CHECK(t.console.out.str() == "welcome\n");
}

TEST_CASE("full duplex: typed lines go out while the server says nothing") {
  client_test t;
  std::string received;
  t.serve(record_silently(std::move(t.acceptor), &received));
  t.console.input.push("one");
  t.console.input.push("two");
  t.console.input.push("q");
  CHECK(t.run() == 0);
  CHECK(received == "one\ntwo\nq\n");
  CHECK(t.console.out.str().empty());
}

// --- how a conversation ends ------------------------------------------------

TEST_CASE("typing q sends it and ends the client, though the server never answers or closes") {
  client_test t;
  std::string received;
  t.serve(record_silently(std::move(t.acceptor), &received));
  t.console.input.push("Q");  // and the input stays open
  CHECK(t.run() == 0);
  CHECK(received == "Q\n");
  CHECK(t.console.err.str().find("closed") == std::string::npos);
}

TEST_CASE("q from the server ends the client with a notice, though its input stays open") {
  client_test t;
  t.serve(send_and_wait(std::move(t.acceptor), "last words\nq\n"));
  CHECK(t.run() == 0);
  CHECK(t.console.out.str() == "last words\n");
  CHECK_THAT(t.console.err.str(), ContainsSubstring("the server sent q"));
}

TEST_CASE("the server closing ends the client promptly, though its input stays open and unread") {
  client_test t(/*interactive=*/true);
  t.serve(send_and_close(std::move(t.acceptor), "going\n"));
  CHECK(t.run() == 0);
  CHECK_THAT(t.console.out.str(), ContainsSubstring("RECEIVED: going"));
  CHECK_THAT(t.console.err.str(), ContainsSubstring("the server closed the connection"));
}

TEST_CASE("a connection reset ends the client with exit 1 and the reason") {
  client_test t;
  t.serve([](tcp::acceptor acceptor) -> asio::awaitable<void> {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    // An explicit close with a zero linger sends RST, not FIN (the
    // destructor would switch the linger off first).
    socket.set_option(asio::socket_base::linger(true, 0));
    socket.close();
  }(std::move(t.acceptor)));
  CHECK(t.run() == 1);
  CHECK_THAT(t.console.err.str(), ContainsSubstring("connection lost"));
}

// --- limits ----------------------------------------------------------------

TEST_CASE("a typed line of exactly --max-line is sent; one byte more is reported and not sent") {
  // Typed through a real pipe on stdin: the console thread applies the limit.
  int fds[2];
  REQUIRE(posix::pipe(fds) == 0);
  const std::string at_limit(10, 'x');
  const std::string typed = "short\n" + at_limit + "\n" + std::string(11, 'y') + "\nafter\n";
  REQUIRE(posix::write(fds[1], typed.data(), typed.size()) == static_cast<long>(typed.size()));
  posix::close(fds[1]);
  const stdin_redirect redirect(fds[0]);
  posix::close(fds[0]);

  client_test t(false, 10);
  t.console.input.read_stdin();
  std::string received;
  t.serve(record_silently(std::move(t.acceptor), &received));
  CHECK(t.run() == 0);  // the end of input, then the server closes
  CHECK(received == "short\n" + at_limit + "\nafter\n");
  CHECK_THAT(t.console.err.str(), ContainsSubstring("not sent: line longer than 10 bytes"));
}

TEST_CASE("a received line of exactly --max-line is printed; one byte more is skipped with a notice") {
  client_test t;
  t.options.max_line = 8;
  t.serve(send_and_close(std::move(t.acceptor), "01234567\n012345678\nfits\n"));
  CHECK(t.run() == 0);
  CHECK(t.console.out.str() == "01234567\nfits\n");
  CHECK_THAT(t.console.err.str(), ContainsSubstring("longer than 8 bytes"));
}

// --- connecting ------------------------------------------------------------

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
