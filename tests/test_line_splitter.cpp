// SPDX-License-Identifier: BSL-1.0
// The line splitter, the protocol's framing: where a line ends, lines split
// across reads or sharing one, the line limit and the memory it bounds.
#include <catch2/catch_message.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <algorithm>
#include <cstddef>
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
