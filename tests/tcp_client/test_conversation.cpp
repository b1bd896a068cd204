// SPDX-License-Identifier: BSL-1.0
// tcp_client in a conversation: what it prints, piped and on a terminal, and
// full duplex, a server line printed while the operator types nothing and
// typed lines sent while the server says nothing.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <string>
#include <utility>

#include "support.hpp"
#include "tcp_client/client_test.hpp"

namespace asio = boost::asio;
using namespace coronet::testing;
using Catch::Matchers::ContainsSubstring;

// --- output ----------------------------------------------------------------

TEST_CASE("piped: stdout is exactly the received lines; the end of input half-closes") {
  client_test t;
  t.serve(echo_then_bye(std::move(t.acceptor)));
  t.type({"a", "b"});
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
  t.type({"one", "two", "q"});
  CHECK(t.run() == 0);
  CHECK(received == "one\ntwo\nq\n");
  CHECK(t.console.out.str().empty());
}
