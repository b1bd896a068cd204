// SPDX-License-Identifier: BSL-1.0
// The protocol module's rules, edge cases first.
#include <catch2/catch_message.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/protocol.hpp"

using namespace std::string_literals;
using coronet::line_splitter;

namespace {

struct split_outcome {
  std::vector<std::string> lines;  // text of every complete line
  std::vector<std::string> raws;   // the same lines with their endings
  std::string pending;             // what is left for the next read
  bool too_long = false;
};

// Feeds the chunks one read at a time, as a socket would hand them over.
split_outcome split(const std::vector<std::string>& chunks, std::size_t max_line = 16,
                    std::size_t read_size = 8) {
  line_splitter splitter(max_line, read_size);
  split_outcome out;
  for (const auto& chunk : chunks) {
    std::string_view rest = chunk;
    while (!rest.empty()) {
      const auto space = splitter.prepare();
      REQUIRE(!space.empty());
      const auto n = std::min(space.size(), rest.size());
      rest.copy(space.data(), n);
      rest.remove_prefix(n);
      splitter.commit(n);
      while (true) {
        const auto r = splitter.next();
        if (r.what == line_splitter::status::need_more) break;
        if (r.what == line_splitter::status::too_long) {
          out.too_long = true;
          return out;
        }
        out.lines.emplace_back(r.value.text);
        out.raws.emplace_back(r.value.raw);
      }
    }
  }
  out.pending = splitter.pending();
  return out;
}

}  // namespace

TEST_CASE("a line ends at LF; a CR right before the LF belongs to the ending") {
  const auto [input, lines, pending] = GENERATE(table<std::string, std::vector<std::string>, std::string>({
      {"abc\n", {"abc"}, ""},
      {"abc\r\n", {"abc"}, ""},
      {"\n", {""}, ""},                  // empty line
      {"\r\n", {""}, ""},                // empty line, CRLF
      {"\n\n\r\n", {"", "", ""}, ""},    // several empty lines
      {"a\rb\n", {"a\rb"}, ""},          // a lone CR is data
      {"\r\r\n", {"\r"}, ""},            // only the last CR is the ending
      {"\r", {}, "\r"},                  // CR only: no line yet
      {"abc\rdef", {}, "abc\rdef"},      // CR only, no LF: still one unfinished line
      {"a\0b\n"s, {"a\0b"s}, ""},        // NUL bytes are data
      {"\xff\xfe\n", {"\xff\xfe"}, ""},  // invalid UTF-8 is data
      {"one\ntwo\nthr", {"one", "two"}, "thr"},
  }));
  CAPTURE(input);
  const auto out = split({input});
  CHECK_FALSE(out.too_long);
  CHECK(out.lines == lines);
  CHECK(out.pending == pending);
}

TEST_CASE("the raw view keeps the line exactly as received") {
  const auto out = split({"a\r\nb\nc\rd\n"});
  CHECK(out.raws == std::vector<std::string>{"a\r\n", "b\n", "c\rd\n"});
}

TEST_CASE("lines split across reads are joined, CRLF split between reads included") {
  const auto [chunks, lines] = GENERATE(table<std::vector<std::string>, std::vector<std::string>>({
      {{"ab", "c\n"}, {"abc"}},
      {{"abc\r", "\n"}, {"abc"}},  // CRLF split across reads
      {{"abc", "\r", "\n"}, {"abc"}},
      {{"a\r", "b\n"}, {"a\rb"}},  // a CR that turns out to be data
      {{"", "x\n"}, {"x"}},        // an empty read changes nothing
      {{"1\n2", "\n3\n"}, {"1", "2", "3"}},
  }));
  const auto out = split(chunks);
  CHECK_FALSE(out.too_long);
  CHECK(out.lines == lines);
  CHECK(out.pending.empty());
}

TEST_CASE("every line of one read comes out of one pass, in order") {
  std::string many;
  std::vector<std::string> expected;
  for (int i = 0; i < 100; ++i) {
    expected.push_back("line " + std::to_string(i));
    many += expected.back() + (i % 2 != 0 ? "\r\n" : "\n");
  }
  line_splitter splitter(64, many.size());
  const auto space = splitter.prepare();
  REQUIRE(space.size() == many.size());
  many.copy(space.data(), many.size());
  splitter.commit(many.size());
  std::vector<std::string> got;
  for (auto r = splitter.next(); r.what == line_splitter::status::line; r = splitter.next())
    got.emplace_back(r.value.text);
  CHECK(got == expected);
  CHECK(splitter.pending().empty());
}

TEST_CASE("the line limit: exactly max_line passes, one byte more is an error") {
  constexpr std::size_t limit = 16;
  const std::string at_limit(limit, 'x');
  const std::string over_limit(limit + 1, 'x');
  const auto read_size = GENERATE(std::size_t{1}, std::size_t{3}, std::size_t{8}, std::size_t{64});
  CAPTURE(read_size);

  SECTION("a line of exactly the limit, LF or CRLF") {
    CHECK(split({at_limit + "\n"}, limit, read_size).lines == std::vector{at_limit});
    CHECK(split({at_limit + "\r\n"}, limit, read_size).lines == std::vector{at_limit});
    CHECK_FALSE(split({at_limit + "\r"}, limit, read_size).too_long);  // LF may still come
  }
  SECTION("one byte over, with or without its LF") {
    CHECK(split({over_limit + "\n"}, limit, read_size).too_long);
    CHECK(split({over_limit}, limit, read_size).too_long);  // known before the LF comes
    CHECK(split({at_limit + "\r\r\n"}, limit, read_size).too_long);
    CHECK(split({at_limit + "\rx"}, limit, read_size).too_long);
  }
  SECTION("a short line before an overlong one still comes out") {
    const auto out = split({"ok\n" + over_limit}, limit, read_size);
    CHECK(out.lines == std::vector<std::string>{"ok"});
    CHECK(out.too_long);
  }
}

TEST_CASE("memory stays within the limit plus one read, however the bytes arrive") {
  constexpr std::size_t limit = 100;
  constexpr std::size_t read_size = 10;
  line_splitter splitter(limit, read_size);
  std::size_t largest = 0;
  bool too_long = false;
  for (int i = 0; i < 1000 && !too_long; ++i) {  // a peer that never sends LF
    const auto space = splitter.prepare();
    largest = std::max(largest, splitter.pending().size() + space.size());
    std::ranges::fill(space, 'x');
    splitter.commit(space.size());
    too_long = splitter.next().what == line_splitter::status::too_long;
  }
  CHECK(too_long);
  CHECK(largest <= limit + 2 + read_size);
}

TEST_CASE("after an overlong line, skipping resumes at the next line") {
  line_splitter splitter(4, 4);
  const std::string input = "toolongline\nok\n";
  std::vector<std::string> lines;
  int errors = 0;
  for (std::size_t at = 0; at < input.size();) {
    const auto space = splitter.prepare();
    const auto n = std::min(space.size(), input.size() - at);
    input.copy(space.data(), n, at);
    at += n;
    splitter.commit(n);
    for (auto r = splitter.next(); r.what != line_splitter::status::need_more; r = splitter.next()) {
      if (r.what == line_splitter::status::too_long) {
        ++errors;
        splitter.skip_long_line();
      } else {
        lines.emplace_back(r.value.text);
      }
    }
  }
  CHECK(errors == 1);
  CHECK(lines == std::vector<std::string>{"ok"});
}

TEST_CASE("an idle splitter gives its buffer back") {
  line_splitter splitter(16, 8);
  const auto space = splitter.prepare();
  space[0] = 'a';
  splitter.commit(1);
  splitter.release_if_empty();  // something pending: kept
  CHECK(splitter.pending() == "a");
  space[1] = '\n';
  splitter.commit(1);
  CHECK(splitter.next().value.text == "a");
  splitter.release_if_empty();
  CHECK(splitter.pending().empty());
  CHECK(splitter.prepare().size() == 8);
}

TEST_CASE("a line longer than one read gets the whole buffer a legal line needs, once") {
  line_splitter splitter(100, 8);
  auto space = splitter.prepare();
  REQUIRE(space.size() == 8);  // short lines: one read
  std::ranges::fill(space, 'x');
  splitter.commit(8);
  REQUIRE(splitter.next().what == line_splitter::status::need_more);
  space = splitter.prepare();  // max_line + 2 + one read, less the 8 bytes held
  CHECK(space.size() == 100 + 2 + 8 - 8);
  CHECK(splitter.pending() == std::string(8, 'x'));  // kept across the move
  space[0] = '\n';
  splitter.commit(1);
  CHECK(splitter.next().value.text == std::string(8, 'x'));
}

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
