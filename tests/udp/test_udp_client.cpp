// SPDX-License-Identifier: BSL-1.0
// udp_client in-process on loopback against a test server that echoes: what
// it prints, piped and on a terminal, the quit word, --no-wait, payload
// edges. Resending and late echoes: test_udp_client_retries.cpp; refusals and
// the next address: test_udp_client_addresses.cpp.
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "coronet/protocol.hpp"
#include "support.hpp"
#include "udp/udp_client_exchange.hpp"

using namespace coronet::testing;

TEST_CASE("udp_client prints each echo bare when stdout is not a terminal, and exits 0") {
  udp_exchange exchange;
  const auto result = exchange.echo({"one", "two", "", "one"});
  CHECK(result.exit_code == 0);
  CHECK(result.out == "one\ntwo\n\none\n");
  CHECK(result.err.empty());
  CHECK(exchange.received == 4);
}

TEST_CASE("udp_client labels echoes with the round-trip time on a terminal, terminal-safe") {
  udp_exchange exchange;
  const auto result = exchange.echo({"hi", "\x1b]0;owned\x07\x1b[2J"}, 0, /*interactive=*/true);
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

TEST_CASE("udp_client ends at 'q' or 'Q' without sending it") {
  const std::string quit = GENERATE(std::string("q"), std::string("Q"));
  udp_exchange exchange;
  // No end of input: the quit word alone ends the client.
  const auto result = exchange.echo({"a", quit, "b"}, 0, false, /*end=*/false);
  CHECK(result.exit_code == 0);
  CHECK(result.out == "a\n");
  CHECK(exchange.received == 1);
}

TEST_CASE("udp_client --no-wait sends every line and expects nothing, like the seed") {
  udp_exchange exchange;  // its server never answers
  exchange.options.wait_for_reply = false;
  const auto result = exchange.run_against({"one", "", "three"}, stay_silent());
  CHECK(result.exit_code == 0);
  CHECK(result.out.empty());
  CHECK(result.err.empty());
  // Sent without waiting: UDP may drop some, never reorder or repeat them here.
  const auto queued = queued_datagrams(exchange.server);
  const std::vector<std::string> sent{"one", "", "three"};
  CHECK(!queued.empty());
  CHECK(is_subsequence(queued, sent));
}

TEST_CASE("udp_client sends payload edges whole: 1 byte, 65507 bytes, NUL and invalid UTF-8") {
  udp_exchange exchange;
  const std::string largest(coronet::max_udp_payload_v4, 'L');
  const std::string binary("a\0b\xff\xc3", 5);
  const auto result = exchange.echo({"1", largest, binary});
  CHECK(result.exit_code == 0);
  CHECK(result.out == "1\n" + largest + "\n" + binary + "\n");
  CHECK(exchange.received == 3);
}

TEST_CASE("udp_client refuses a line too large for one datagram, clearly, and goes on") {
  const std::size_t size = GENERATE(coronet::max_udp_payload_v4 + 1, std::size_t{70000});
  udp_exchange exchange;
  const auto result = exchange.echo({std::string(size, 'x'), "after"});
  CHECK(result.exit_code == 1);
  CHECK(result.out == "after\n");
  CHECK(result.err == "error: a line of " + std::to_string(size) +
                          " bytes does not fit in one datagram (at most 65507), not sent\n");
  CHECK(exchange.received == 1);
}
