// SPDX-License-Identifier: BSL-1.0
// --max-line in every mode: a line of exactly the limit is served (its CRLF
// is the ending, not part of it); one byte more gets the error and closes
// that connection only, even before the line's end arrives.
#include <catch2/catch_test_macros.hpp>

#include <string>

#include "support.hpp"

namespace asio = boost::asio;
using namespace coronet::testing;

TEST_CASE("every mode: a line of max-line is served; one byte more gets the error and closes only it") {
  server_options options = options_for(any_mode());
  options.max_line = 100;
  run_with_two_clients(options, [](test_server* server, peer a, peer b) -> asio::awaitable<void> {
    co_await expect_served(server, &a, &b, std::string(100, 'a'), "\r\n");
    co_await a.send("fine\n" + std::string(101, 'b') + "\n");
    const std::string error = "error: line longer than 100 bytes\n";
    // Only echo sends "fine" back to its sender. (Named, not a ?: inside the
    // co_await: GCC 12 destroys such a temporary twice.)
    const std::string last_words = server->mode() == server_mode::echo ? "fine\n" + error : error;
    co_await expect_end_in_mode(server, &a, last_words);
    auto c = co_await connect_to(server->port());
    co_await expect_served(server, &b, &c, "still here");
  });
}

TEST_CASE("every mode: an overlong line is refused before its end arrives") {
  server_options options = options_for(any_mode());
  options.max_line = 1000;
  run_with_client(options, [](test_server*, peer client) -> asio::awaitable<void> {
    co_await client.send(std::string(5000, 'x'));  // no LF, ever
    co_await client.expect_end("error: line longer than 1000 bytes\n");
  });
}
