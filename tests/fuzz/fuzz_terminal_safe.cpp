// SPDX-License-Identifier: BSL-1.0
// Fuzzes the terminal-safe printer with arbitrary peer bytes. What
// include/coronet/protocol.hpp promises, checked against an independent
// UTF-8 decoder:
// - the output never holds a C0 control byte or DEL, and is well-formed UTF-8
//   with no C1 control, bidirectional override or isolate, or line/paragraph
//   separator code point (everything else a terminal would act on);
// - printable ASCII and well-formed UTF-8 without such code points stay as
//   they are;
// - append_terminal_safe appends the same text and leaves what was there;
// - format_datagram_line is the seed's prefix followed by the same safe text.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/protocol.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "terminal_safe broke its promise: %s\n", what);
  std::abort();
}

// Decodes well-formed UTF-8 (Unicode 15, table 3-7) into code points; nothing
// when any byte sequence is ill-formed. Written from the table, not from
// protocol.cpp: it checks the full code point range instead of lead bytes.
std::optional<std::vector<char32_t>> decode(std::string_view s) {
  std::vector<char32_t> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t length = 0;
    char32_t c = 0;
    if (b0 < 0x80) {
      length = 1, c = b0;
    } else if ((b0 & 0xe0) == 0xc0) {
      length = 2, c = b0 & 0x1f;
    } else if ((b0 & 0xf0) == 0xe0) {
      length = 3, c = b0 & 0x0f;
    } else if ((b0 & 0xf8) == 0xf0) {
      length = 4, c = b0 & 0x07;
    } else {
      return std::nullopt;
    }
    if (s.size() - i < length) return std::nullopt;
    for (std::size_t k = 1; k < length; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xc0) != 0x80) return std::nullopt;
      c = (c << 6) | (b & 0x3f);
    }
    static constexpr char32_t shortest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < shortest[length] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return std::nullopt;
    out.push_back(c);
    i += length;
  }
  return out;
}

bool drives_the_terminal(char32_t c) {
  return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
         (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029 || c == 0x200e || c == 0x200f ||
         c == 0x061c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string safe = coronet::terminal_safe(bytes);

  for (const char ch : safe) {
    const auto b = static_cast<unsigned char>(ch);
    if (b < 0x20 || b == 0x7f) fail("a C0 control byte or DEL in the output");
  }
  const auto code_points = decode(safe);
  if (!code_points) fail("the output is not well-formed UTF-8");
  for (const char32_t c : *code_points) {
    if (drives_the_terminal(c)) fail("a control or direction code point in the output");
  }

  const auto input_code_points = decode(bytes);
  bool input_is_harmless = input_code_points.has_value();
  if (input_code_points) {
    for (const char32_t c : *input_code_points)
      input_is_harmless = input_is_harmless && !drives_the_terminal(c);
  }
  if (input_is_harmless && safe != bytes) fail("harmless text was changed");
  if (!input_is_harmless && safe == bytes) fail("harmful text passed unchanged");

  std::string appended = "prefix:";
  coronet::append_terminal_safe(appended, bytes);
  if (appended != "prefix:" + safe) fail("append_terminal_safe differs from terminal_safe");

  const std::string line = coronet::format_datagram_line("127.0.0.1", 54321, bytes);
  std::string_view payload = bytes;
  if (payload.ends_with('\n')) payload.remove_suffix(1);
  if (payload.ends_with('\r') && bytes.ends_with("\r\n")) payload.remove_suffix(1);
  if (line != "(127.0.0.1 54321) said: " + coronet::terminal_safe(payload)) fail("format_datagram_line");
  return 0;
}
