// tcp_client in-process: the client's own coroutines, with scripted typing
// and captured output, against small servers written here as coroutines on
// ephemeral loopback ports.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "tcp_client.hpp"
#include "time_scale.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Catch::Matchers::ContainsSubstring;
using coronet::client_options;
using coronet::console_input;
using coronet::error_code;
using coronet::tcp;

namespace {

constexpr auto as_value = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view prompt = "SEND (q or Q to quit): ";

void rethrow(const std::exception_ptr& e) {
  if (e) std::rethrow_exception(e);
}

// The console a test types into and reads from.
struct scripted_console {
  explicit scripted_console(asio::io_context& io, bool interactive = false,
                            std::size_t max_line = coronet::default_max_line)
      : input(io.get_executor(), max_line), con{input, out, err, interactive} {}
  std::ostringstream out;
  std::ostringstream err;
  console_input input;
  coronet::console con;
};

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

// --- test servers: each accepts one connection -----------------------------

// Echoes bytes until the client half-closes, then says "bye" and closes: the
// "bye" reaches the client only if it keeps reading after its end of input.
asio::awaitable<void> echo_then_bye(tcp::acceptor acceptor) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  char data[4096];
  while (true) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(data), as_value);
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
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(data), as_value);
    if (ec) co_return;
  }
}

// Sends `text` and closes.
asio::awaitable<void> send_and_close(tcp::acceptor acceptor, std::string text) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  co_await asio::async_write(socket, asio::buffer(text), asio::use_awaitable);
}

// Never answers: keeps what the client sends until the client closes.
asio::awaitable<void> record_silently(tcp::acceptor acceptor, std::string& received) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  char data[4096];
  while (true) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(data), as_value);
    if (ec) co_return;
    received.append(data, n);
  }
}

// Suspends until `text` shows up in `stream` (polling: the client writes to a
// plain ostringstream).
asio::awaitable<void> wait_for_output(const std::ostringstream& stream, std::string text) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (stream.str().find(text) == std::string::npos) {
    timer.expires_after(5ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

// Runs connect_to_first and notes where it connected.
asio::awaitable<void> connect_and_note(std::vector<tcp::endpoint> endpoints, coronet::console con,
                                       std::optional<tcp::endpoint>& connected) {
  auto [ec, socket] = co_await coronet::connect_to_first(std::move(endpoints), 2s, con, false);
  REQUIRE_FALSE(ec);
  connected = socket.remote_endpoint();
}

// Points this process's stdin at fd for the test's duration.
class stdin_redirect {
 public:
  explicit stdin_redirect(int fd) : saved_(::dup(0)) { ::dup2(fd, 0); }
  ~stdin_redirect() {
    ::dup2(saved_, 0);
    ::close(saved_);
  }
  stdin_redirect(const stdin_redirect&) = delete;
  stdin_redirect& operator=(const stdin_redirect&) = delete;

 private:
  int saved_;
};

}  // namespace

// --- output ----------------------------------------------------------------

TEST_CASE("piped: stdout is exactly the received lines; the end of input half-closes") {
  asio::io_context io;
  scripted_console console(io);
  auto acceptor = listen_on_loopback(io);
  const auto options = options_for(acceptor);
  asio::co_spawn(io, echo_then_bye(std::move(acceptor)), rethrow);
  console.input.push("a");
  console.input.push("b");
  console.input.push_end();
  CHECK(run_client(io, options, console.con) == 0);
  // "bye" is sent only after the server saw the half-close, and printed only
  // because the client kept reading after it.
  CHECK(console.out.str() == "a\nb\nbye\n");
  CHECK_THAT(console.err.str(), ContainsSubstring("the server closed the connection"));
}

TEST_CASE("piped: received bytes pass through untouched (CRLF, NUL, escapes, a last line without LF)") {
  asio::io_context io;
  scripted_console console(io);
  auto acceptor = listen_on_loopback(io);
  const auto options = options_for(acceptor);
  const std::string sent("crlf\r\nnul\0byte\n\x1b[31mred\nlast", 27);
  asio::co_spawn(io, send_and_close(std::move(acceptor), sent), rethrow);
  CHECK(run_client(io, options, console.con) == 0);
  CHECK(console.out.str() == sent);
}

TEST_CASE("terminal: a prompt, received lines labelled and terminal-safe") {
  asio::io_context io;
  scripted_console console(io, /*interactive=*/true);
  auto acceptor = listen_on_loopback(io);
  const auto options = options_for(acceptor);
  asio::co_spawn(io, echo_then_bye(std::move(acceptor)), rethrow);
  console.input.push("hello");
  console.input.push("\x1b]0;owned\x07");  // comes back as an attempt on the terminal's title
  console.input.push_end();
  CHECK(run_client(io, options, console.con) == 0);
  const auto out = console.out.str();
  CHECK(out.starts_with(prompt));
  CHECK_THAT(out, ContainsSubstring("RECEIVED: hello"));
  CHECK_THAT(out, ContainsSubstring("RECEIVED: \\x1b]0;owned\\x07"));
  CHECK_THAT(out, ContainsSubstring("RECEIVED: bye"));
  CHECK(out.find('\x1b') == std::string::npos);
  CHECK(out.find('\x07') == std::string::npos);
  CHECK_THAT(console.err.str(), ContainsSubstring("connected to 127.0.0.1:"));
}

TEST_CASE("piped: nothing but received data on stdout, diagnostics on stderr") {
  asio::io_context io;
  scripted_console console(io);
  auto acceptor = listen_on_loopback(io);
  auto options = options_for(acceptor);
  options.verbose = true;
  asio::co_spawn(io, send_and_close(std::move(acceptor), "only this\n"), rethrow);
  CHECK(run_client(io, options, console.con) == 0);
  CHECK(console.out.str() == "only this\n");
  CHECK_THAT(console.err.str(), ContainsSubstring("trying 127.0.0.1:"));
  CHECK_THAT(console.err.str(), ContainsSubstring("connected to 127.0.0.1:"));
}

// --- full duplex -----------------------------------------------------------

TEST_CASE("full duplex: a server line is printed while the client waits for typing") {
  asio::io_context io;
  scripted_console console(io);
  auto acceptor = listen_on_loopback(io);
  const auto options = options_for(acceptor);
  asio::co_spawn(io, send_and_wait(std::move(acceptor), "welcome\n"), rethrow);
  // Nothing is typed until the greeting has been printed; then the operator quits.
  asio::co_spawn(io, wait_for_output(console.out, "welcome\n"), [&](const std::exception_ptr& e) {
    rethrow(e);
    console.input.push("q");
  });
  CHECK(run_client(io, options, console.con) == 0);
  CHECK(console.out.str() == "welcome\n");
}

TEST_CASE("full duplex: typed lines go out while the server says nothing") {
  asio::io_context io;
  scripted_console console(io);
  auto acceptor = listen_on_loopback(io);
  const auto options = options_for(acceptor);
  std::string received;
  asio::co_spawn(io, record_silently(std::move(acceptor), received), rethrow);
  console.input.push("one");
  console.input.push("two");
  console.input.push("q");
  CHECK(run_client(io, options, console.con) == 0);
  CHECK(received == "one\ntwo\nq\n");
  CHECK(console.out.str().empty());
}

// --- how a conversation ends ------------------------------------------------

TEST_CASE("typing q sends it and ends the client, though the server never answers or closes") {
  asio::io_context io;
  scripted_console console(io);
  auto acceptor = listen_on_loopback(io);
  const auto options = options_for(acceptor);
  std::string received;
  asio::co_spawn(io, record_silently(std::move(acceptor), received), rethrow);
  console.input.push("Q");  // and the input stays open
  CHECK(run_client(io, options, console.con) == 0);
  CHECK(received == "Q\n");
  CHECK(console.err.str().find("closed") == std::string::npos);
}

TEST_CASE("q from the server ends the client with a notice, though its input stays open") {
  asio::io_context io;
  scripted_console console(io);
  auto acceptor = listen_on_loopback(io);
  const auto options = options_for(acceptor);
  asio::co_spawn(io, send_and_wait(std::move(acceptor), "last words\nq\n"), rethrow);
  CHECK(run_client(io, options, console.con) == 0);
  CHECK(console.out.str() == "last words\n");
  CHECK_THAT(console.err.str(), ContainsSubstring("the server sent q"));
}

TEST_CASE("the server closing ends the client promptly, though its input stays open and unread") {
  asio::io_context io;
  scripted_console console(io, /*interactive=*/true);
  auto acceptor = listen_on_loopback(io);
  const auto options = options_for(acceptor);
  asio::co_spawn(io, send_and_close(std::move(acceptor), "going\n"), rethrow);
  CHECK(run_client(io, options, console.con) == 0);
  CHECK_THAT(console.out.str(), ContainsSubstring("RECEIVED: going"));
  CHECK_THAT(console.err.str(), ContainsSubstring("the server closed the connection"));
}

TEST_CASE("a connection reset ends the client with exit 1 and the reason") {
  asio::io_context io;
  scripted_console console(io);
  auto acceptor = listen_on_loopback(io);
  const auto options = options_for(acceptor);
  asio::co_spawn(
      io,
      [](tcp::acceptor acceptor) -> asio::awaitable<void> {
        auto socket = co_await acceptor.async_accept(asio::use_awaitable);
        // An explicit close with a zero linger sends RST, not FIN (the
        // destructor would switch the linger off first).
        socket.set_option(asio::socket_base::linger(true, 0));
        socket.close();
      }(std::move(acceptor)),
      rethrow);
  CHECK(run_client(io, options, console.con) == 1);
  CHECK_THAT(console.err.str(), ContainsSubstring("connection lost"));
}

// --- limits ----------------------------------------------------------------

TEST_CASE("a typed line of exactly --max-line is sent; one byte more is reported and not sent") {
  // Typed through a real pipe on stdin: the console thread applies the limit.
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const std::string at_limit(10, 'x');
  const std::string typed = "short\n" + at_limit + "\n" + std::string(11, 'y') + "\nafter\n";
  REQUIRE(::write(fds[1], typed.data(), typed.size()) == static_cast<ssize_t>(typed.size()));
  ::close(fds[1]);
  stdin_redirect redirect(fds[0]);
  ::close(fds[0]);

  asio::io_context io;
  scripted_console console(io, false, 10);
  console.input.read_stdin();
  auto acceptor = listen_on_loopback(io);
  const auto options = options_for(acceptor);
  std::string received;
  asio::co_spawn(io, record_silently(std::move(acceptor), received), rethrow);
  CHECK(run_client(io, options, console.con) == 0);  // the end of input, then the server closes
  CHECK(received == "short\n" + at_limit + "\nafter\n");
  CHECK_THAT(console.err.str(), ContainsSubstring("not sent: line longer than 10 bytes"));
}

TEST_CASE("a received line of exactly --max-line is printed; one byte more is skipped with a notice") {
  asio::io_context io;
  scripted_console console(io);
  auto acceptor = listen_on_loopback(io);
  auto options = options_for(acceptor);
  options.max_line = 8;
  asio::co_spawn(io, send_and_close(std::move(acceptor), "01234567\n012345678\nfits\n"), rethrow);
  CHECK(run_client(io, options, console.con) == 0);
  CHECK(console.out.str() == "01234567\nfits\n");
  CHECK_THAT(console.err.str(), ContainsSubstring("longer than 8 bytes"));
}

// --- connecting ------------------------------------------------------------

TEST_CASE("every resolved address is tried until one connects, IPv6 and IPv4") {
  asio::io_context io;
  scripted_console console(io);
  auto refusing_v4 = bind_without_listening(io, "127.0.0.1");
  auto refusing_v6 = bind_without_listening(io, "::1");
  auto listening_v4 = listen_on_loopback(io);
  auto listening_v6 = listen_on_loopback(io, asio::ip::make_address("::1"));

  auto connect = [&](std::vector<tcp::endpoint> endpoints) {
    std::optional<tcp::endpoint> connected;
    asio::co_spawn(io, connect_and_note(std::move(endpoints), console.con, connected), rethrow);
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
  scripted_console console(io);
  auto refusing = bind_without_listening(io, "127.0.0.1");
  auto options = options_for(refusing);
  CHECK(run_client(io, options, console.con) == 1);
  const auto target = "127.0.0.1:" + std::to_string(options.port);
  CHECK(console.err.str() == "cannot connect to " + target + ": connection refused\n");
  CHECK(console.out.str().empty());
}

TEST_CASE("an unresolvable host: one line naming the target and the reason, exit 1") {
  asio::io_context io;
  scripted_console console(io);
  client_options options;
  // An empty label: the system's resolver rejects the name without asking DNS,
  // so the test sends nothing off this machine.
  options.host = "no..such..host";
  options.port = 5000;
  CHECK(run_client(io, options, console.con) == 1);
  CHECK_THAT(console.err.str(), ContainsSubstring("cannot connect to no..such..host:5000: cannot resolve"));
  CHECK(console.out.str().empty());
}

TEST_CASE("a connect timeout: one line naming the target and the wait, exit 1") {
  asio::io_context io;
  scripted_console console(io);
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
