// SPDX-License-Identifier: BSL-1.0
// Terminal-safe text (coronet/protocol.hpp): what a peer sent, shown on a
// console without letting it drive the terminal.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "coronet/protocol.hpp"

namespace coronet {

namespace {

void append_hex_escape(std::string& out, unsigned char byte) {
  constexpr char digits[] = "0123456789abcdef";
  out += "\\x";
  out += digits[byte >> 4];
  out += digits[byte & 0xf];
}

// Length of the well-formed UTF-8 sequence at the start of s (2..4) and its
// code point, or 0 when the bytes there are not one (overlong forms,
// surrogates and values past U+10FFFF are not well-formed).
std::size_t decode_utf8(std::string_view s, char32_t& code_point) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  char32_t value = 0;
  // The allowed range of the second byte.
  unsigned char low = 0x80;
  unsigned char high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, value = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, value = lead & 0x0f;
    if (lead == 0xe0) low = 0xa0;   // overlong
    if (lead == 0xed) high = 0x9f;  // surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, value = lead & 0x07;
    if (lead == 0xf0) low = 0x90;   // overlong
    if (lead == 0xf4) high = 0x8f;  // past U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < length) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char b = byte(i);
    if (i == 1 ? (b < low || b > high) : (b < 0x80 || b > 0xbf)) return 0;
    value = (value << 6) | (b & 0x3f);
  }
  code_point = value;
  return length;
}

// Code points that are well-formed but change how a terminal behaves or how
// text reads: C1 controls (0x9b is CSI on some terminals), bidirectional
// overrides and isolates, line and paragraph separators.
bool is_invisible_control(char32_t c) {
  return (c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
         c == 0x2028 || c == 0x2029 || c == 0x200e || c == 0x200f || c == 0x061c;
}

}  // namespace

void append_terminal_safe(std::string& out, std::string_view bytes) {
  out.reserve(out.size() + bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c < 0x80) {  // C0 control or DEL
      append_hex_escape(out, c);
      ++i;
      continue;
    }
    char32_t code_point = 0;
    const std::size_t length = decode_utf8(bytes.substr(i), code_point);
    if (length == 0) {  // invalid UTF-8: show the byte, keep going with the next
      append_hex_escape(out, c);
      ++i;
    } else if (is_invisible_control(code_point)) {
      constexpr char digits[] = "0123456789abcdef";
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out += digits[(code_point >> shift) & 0xf];
      i += length;
    } else {
      out.append(bytes.substr(i, length));
      i += length;
    }
  }
}

std::string terminal_safe(std::string_view bytes) {
  std::string out;
  append_terminal_safe(out, bytes);
  return out;
}

std::string format_datagram_line(std::string_view address, std::uint16_t port, std::string_view payload) {
  std::string out;
  out += '(';
  out += address;
  out += ' ';
  out += std::to_string(port);
  out += ") said: ";
  append_terminal_safe(out, strip_line_ending(payload));
  return out;
}

}  // namespace coronet
