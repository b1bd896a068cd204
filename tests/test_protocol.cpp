// SPDX-License-Identifier: BSL-1.0
// The protocol module's rules, edge cases first: line endings, the quit word,
// limits, endpoints, the seed's UDP line and terminal-safe text. The line
// splitter has its own file, test_line_splitter.cpp.
#include <catch2/catch_message.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "coronet/protocol.hpp"

using namespace std::string_literals;

TEST_CASE("strip_line_ending removes one LF or CRLF") {
  CHECK(coronet::strip_line_ending("a\r\n") == "a");
  CHECK(coronet::strip_line_ending("a\n") == "a");
  CHECK(coronet::strip_line_ending("a\r") == "a\r");
  CHECK(coronet::strip_line_ending("a\n\n") == "a\n");
  CHECK(coronet::strip_line_ending("").empty());
}

TEST_CASE("the quit word is q or Q alone on a line") {
  const auto [text, quits] = GENERATE(table<std::string, bool>({
      {"q", true},
      {"Q", true},
      {"", false},
      {"qq", false},
      {" q", false},
      {"q ", false},
      {"quit", false},
      {"q\r", false},
      {"\0q"s, false},
  }));
  CAPTURE(text);
  CHECK(coronet::is_quit(text) == quits);
}

TEST_CASE("limits and defaults") {
  CHECK(coronet::default_port == 5000);
  CHECK(coronet::default_max_line == 65536);
  CHECK(coronet::max_udp_payload_v4 == 65507);
  CHECK(coronet::max_udp_payload_v6 == 65527);
}

TEST_CASE("endpoints parse from the forms people type") {
  using coronet::host_port;
  const auto [text, expected] = GENERATE(table<std::string, std::optional<host_port>>({
      {"127.0.0.1:5000", host_port{"127.0.0.1", 5000}},
      {"127.0.0.1", host_port{"127.0.0.1", 5000}},
      {"[::1]:6000", host_port{"::1", 6000}},
      {"[::1]", host_port{"::1", 5000}},
      {"::1", host_port{"::1", 5000}},
      {"fe80::1%eth0", host_port{"fe80::1%eth0", 5000}},
      {"localhost:0", host_port{"localhost", 0}},
      {"example.org:65535", host_port{"example.org", 65535}},
      {"", std::nullopt},
      {":5000", std::nullopt},
      {"host:", std::nullopt},
      {"host:65536", std::nullopt},
      {"host:-1", std::nullopt},
      {"host:50x", std::nullopt},
      {"[::1", std::nullopt},
      {"[]:5000", std::nullopt},
      {"[::1]5000", std::nullopt},
      {"[::1]:", std::nullopt},
      {"[[::1]:5000", std::nullopt},  // a bracket inside a host could not be formatted back
      {"h:00]:", std::nullopt},
      {"a]:5000", std::nullopt},
      {"a[b", std::nullopt},
  }));
  CAPTURE(text);
  CHECK(coronet::parse_host_port(text) == expected);
}

TEST_CASE("ports and endpoints format back") {
  CHECK(coronet::parse_port("0") == 0);
  CHECK(coronet::parse_port("65535") == 65535);
  CHECK_FALSE(coronet::parse_port("65536"));
  CHECK_FALSE(coronet::parse_port(" 1"));
  CHECK_FALSE(coronet::parse_port("+1"));
  CHECK(coronet::unbracketed("[::1]") == "::1");
  CHECK(coronet::unbracketed("::1") == "::1");
  CHECK(coronet::unbracketed("127.0.0.1") == "127.0.0.1");
  CHECK(coronet::unbracketed("[") == "[");
  CHECK(coronet::unbracketed("[]").empty());
  CHECK(coronet::format_host_port(coronet::unbracketed("[::1]"), 5000) == "[::1]:5000");
  CHECK(coronet::format_host_port("127.0.0.1", 5000) == "127.0.0.1:5000");
  CHECK(coronet::format_host_port("::1", 5000) == "[::1]:5000");
  CHECK(coronet::format_host_port("localhost", 80) == "localhost:80");
}

TEST_CASE("the seed's UDP line: (ADDR PORT) said: TEXT") {
  CHECK(coronet::format_datagram_line("127.0.0.1", 54321, "hello") == "(127.0.0.1 54321) said: hello");
  CHECK(coronet::format_datagram_line("::1", 7, "hi\n") == "(::1 7) said: hi");
  CHECK(coronet::format_datagram_line("::1", 7, "hi\r\n") == "(::1 7) said: hi");
  CHECK(coronet::format_datagram_line("::1", 7, "hi\n\n") == "(::1 7) said: hi\\x0a");
  CHECK(coronet::format_datagram_line("10.0.0.1", 1, "") == "(10.0.0.1 1) said: ");
  CHECK(coronet::format_datagram_line("10.0.0.1", 1, "\x1b[2J") == "(10.0.0.1 1) said: \\x1b[2J");
}

TEST_CASE("terminal-safe text shows control bytes and invalid UTF-8 as escapes") {
  const auto [input, shown] = GENERATE(table<std::string, std::string>({
      {"plain text", "plain text"},
      {"tab\there", "tab\\x09here"},
      {"\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"},        // clear screen, cursor home
      {"\x1b]0;owned\x07", "\\x1b]0;owned\\x07"},  // set the window title, bell
      {"\x07", "\\x07"},                           // bell
      {"a\0b"s, "a\\x00b"},                        // NUL
      {"\x7f", "\\x7f"},                           // DEL
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
      {"\xc2\x9b"
       "31m",
       "\\u009b31m"},  // C1 CSI, well-formed UTF-8
      {"\xe2\x80\xae"  // NOLINT(misc-misleading-bidirectional): the override is the test data, shown escaped
       "txt",
       "\\u202etxt"},                                // right-to-left override
      {"\xff", "\\xff"},                             // never valid
      {"\xc3", "\\xc3"},                             // truncated sequence
      {"\xc3(", "\\xc3("},                           // bad continuation
      {"\xc0\xaf", "\\xc0\\xaf"},                    // overlong
      {"\xed\xa0\x80", "\\xed\\xa0\\x80"},           // surrogate
      {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},  // past U+10FFFF
      {"\x9b", "\\x9b"},                             // a lone C1 byte
      {"r\r\n", "r\\x0d\\x0a"},
  }));
  CAPTURE(input);
  CHECK(coronet::terminal_safe(input) == shown);
}

TEST_CASE("terminal-safe output never holds a control byte") {
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte += static_cast<char>(i);
  const auto shown = coronet::terminal_safe(every_byte + every_byte);
  for (const char c : shown) {
    const auto byte = static_cast<unsigned char>(c);
    CHECK((byte >= 0x20 && byte != 0x7f));
  }
}
