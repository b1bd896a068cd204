// SPDX-License-Identifier: BSL-1.0
// coronet's wire protocol and console rules: plain functions with no I/O,
// shared by the four programs and unit-tested (and fuzzed) on their own.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace coronet {

// ---------------------------------------------------------------------------
// Limits and defaults, in one place.
// ---------------------------------------------------------------------------
inline constexpr std::uint16_t default_port = 5000;
inline constexpr std::size_t default_max_line = 65536;    // bytes, line ending excluded
inline constexpr std::size_t max_udp_payload_v4 = 65507;  // 65535 - 20 (IPv4) - 8 (UDP)
inline constexpr std::size_t max_udp_payload_v6 = 65527;  // 65535 - 8 (UDP); no IPv6 header in the length
inline constexpr std::size_t default_max_connections = 1000;
inline constexpr std::size_t default_room_queue = 1 << 20;  // bytes queued for one slow room client
inline constexpr std::chrono::seconds default_idle_timeout{600};
inline constexpr std::chrono::seconds default_connect_timeout{10};
inline constexpr std::chrono::milliseconds default_udp_timeout{1000};
inline constexpr int default_udp_retries = 2;
inline constexpr std::chrono::seconds shutdown_grace{1};  // a server exits within this after a signal

// ---------------------------------------------------------------------------
// Errors the protocol reports as values.
// ---------------------------------------------------------------------------
enum class errc {
  line_too_long = 1,  // a line grew past the configured limit before its LF arrived
};
const std::error_category& protocol_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

// ---------------------------------------------------------------------------
// Framing: a message is a line ended by LF. A CR right before the LF belongs to
// the line ending; a CR anywhere else is data.
// ---------------------------------------------------------------------------

// The line's text without its ending ("abc\r\n" -> "abc", "a\rb\n" -> "a\rb").
std::string_view strip_line_ending(std::string_view line_with_ending) noexcept;

// Incremental splitter. Bytes are read straight into prepare(), announced with
// commit(n); next() then hands out every complete line of what was committed,
// as views into the splitter's own buffer (no copy), until it needs more bytes.
// Views stay valid until the next prepare().
//
// Memory never grows past max_line + 2 (the longest legal line with its CRLF)
// plus one read: a line that outgrows the limit is reported as
// errc::line_too_long as soon as that is certain, not when its LF arrives.
class line_splitter {
 public:
  struct line {
    std::string_view text;  // without the line ending
    std::string_view raw;   // exactly as received, line ending included
  };
  enum class status { line, need_more, too_long };
  struct result {
    status what;
    line value;  // set when what == status::line
  };

  explicit line_splitter(std::size_t max_line = default_max_line,
                         std::size_t read_size = std::size_t{16} * 1024);

  // Free space to read into: at least one byte; read_size while lines are
  // short, more once a line has outgrown one read (up to the bound above).
  std::span<char> prepare();
  // n bytes were written at the start of the span prepare() returned.
  void commit(std::size_t n) noexcept;
  // The next complete line, need_more, or too_long (which repeats until
  // skip_long_line() or until the caller gives up the stream).
  result next() noexcept;
  // After too_long: drop the overlong line's bytes up to and including its LF
  // (those already here and those still to come) and go on with the next line.
  void skip_long_line() noexcept;
  // Bytes of an unfinished line held back for the next read.
  [[nodiscard]] std::string_view pending() const noexcept;
  // Hand the buffer back to the allocator when nothing is pending (an idle
  // connection then costs no buffer at all).
  void release_if_empty() noexcept;

  [[nodiscard]] std::size_t max_line() const noexcept { return max_line_; }

 private:
  void grow(std::size_t capacity);

  std::size_t max_line_;
  std::size_t read_size_;
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;  // first byte not handed out yet
  std::size_t end_ = 0;    // one past the last committed byte
  std::size_t scan_ = 0;   // bytes in [begin_, scan_) are known to hold no LF
  bool skipping_ = false;  // dropping the rest of an overlong line
};

// ---------------------------------------------------------------------------
// The quit word: 'q' or 'Q' alone on a line (after the line ending is removed).
// ---------------------------------------------------------------------------
constexpr bool is_quit(std::string_view text) noexcept {
  return text == "q" || text == "Q";
}

// ---------------------------------------------------------------------------
// Endpoints: "127.0.0.1:5000", "[::1]:5000", "localhost:5000", "localhost".
// ---------------------------------------------------------------------------
struct host_port {
  std::string host;  // an address or a name, without brackets
  std::uint16_t port = default_port;
  friend bool operator==(const host_port&, const host_port&) = default;
};

// Parses HOST, HOST:PORT, [V6], [V6]:PORT or a bare IPv6 address (which has
// more than one ':'). A missing port is default_port. Nothing when malformed.
std::optional<host_port> parse_host_port(std::string_view text, std::uint16_t fallback_port = default_port);
// A port number 0..65535 given as text, nothing when it is not one.
std::optional<std::uint16_t> parse_port(std::string_view text);
// "127.0.0.1:5000", "[::1]:5000": an address with ':' gets brackets.
std::string format_host_port(std::string_view host, std::uint16_t port);
// A host as typed, without the brackets of an IPv6 literal: "[::1]" -> "::1";
// anything else unchanged. Wherever a program takes an address on its
// command line, "[::1]" and "::1" are the same.
std::string_view unbracketed(std::string_view host) noexcept;

// ---------------------------------------------------------------------------
// Terminal-safe text: what a peer sent, shown on a console without letting it
// drive the terminal. Printable ASCII and well-formed UTF-8 stay as they are;
// control bytes (C0, DEL, C1), invalid UTF-8 and invisible direction overrides
// are shown as escapes ("\x1b", "\u202e"). The result never holds a control byte.
// ---------------------------------------------------------------------------
std::string terminal_safe(std::string_view bytes);
void append_terminal_safe(std::string& out, std::string_view bytes);

// The seed's UDP server line: "(127.0.0.1 54321) said: hello" (no newline).
// One trailing line ending of the payload is dropped; the rest is terminal-safe.
std::string format_datagram_line(std::string_view address, std::uint16_t port, std::string_view payload);

}  // namespace coronet

template <>
struct std::is_error_code_enum<coronet::errc> : std::true_type {};
