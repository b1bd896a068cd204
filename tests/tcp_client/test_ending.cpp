// SPDX-License-Identifier: BSL-1.0
// How a tcp_client conversation ends (the quit word from either side, the
// server closing, a reset) and the --max-line limit both ways.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <string>
#include <utility>

#include "posix_io.hpp"
#include "support.hpp"
#include "tcp_client/client_test.hpp"

namespace asio = boost::asio;
namespace posix = coronet::testing::posix;
using namespace coronet::testing;
using Catch::Matchers::ContainsSubstring;

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
