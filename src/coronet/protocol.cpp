// SPDX-License-Identifier: BSL-1.0
#include "coronet/protocol.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace coronet {

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------
namespace {
class protocol_error_category final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "coronet"; }
  [[nodiscard]] std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::line_too_long:
        return "line too long";
    }
    return "unknown coronet error";
  }
};
}  // namespace

const std::error_category& protocol_category() noexcept {
  static const protocol_error_category category;
  return category;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), protocol_category()};
}

// ---------------------------------------------------------------------------
// Framing
// ---------------------------------------------------------------------------
std::string_view strip_line_ending(std::string_view line) noexcept {
  if (line.ends_with('\n')) {
    line.remove_suffix(1);
    if (line.ends_with('\r')) line.remove_suffix(1);
  }
  return line;
}

line_splitter::line_splitter(std::size_t max_line, std::size_t read_size)
    : max_line_(max_line), read_size_(std::max<std::size_t>(read_size, 1)) {}

std::span<char> line_splitter::prepare() {
  if (begin_ == end_) begin_ = end_ = scan_ = 0;
  // Keep the unfinished line at the front so that it has room to grow; move it
  // only when the space behind it is short, so long lines are not copied per read.
  if (capacity_ - end_ < read_size_ && begin_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    scan_ -= begin_;
    begin_ = 0;
  }
  // The buffer starts at one read. A line that does not fit gets the largest
  // buffer a legal line needs at once: the unfinished line is at most
  // max_line + 1 bytes (its text and a CR) or next() would have reported it,
  // so max_line + 2 plus one read holds it and what follows. One copy, then
  // reads as large as the space left.
  if (capacity_ - end_ < read_size_) grow(capacity_ == 0 ? read_size_ : max_line_ + 2 + read_size_);
  return {buffer_.get() + end_, capacity_ - end_};
}

void line_splitter::grow(std::size_t capacity) {
  // Not zero-filled: every byte is written by a read before it is looked at.
  auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
  if (end_ > 0) std::memcpy(bigger.get(), buffer_.get(), end_);
  buffer_ = std::move(bigger);
  capacity_ = capacity;
}

void line_splitter::commit(std::size_t n) noexcept {
  end_ += n;
}

line_splitter::result line_splitter::next() noexcept {
  const char* data = buffer_.get();
  while (true) {
    const char* lf = static_cast<const char*>(std::memchr(data + scan_, '\n', end_ - scan_));
    if (skipping_) {
      // Drop the rest of an overlong line, up to and including its LF.
      if (lf == nullptr) {
        begin_ = scan_ = end_;
        return {.what = status::need_more, .value = {}};
      }
      begin_ = scan_ = static_cast<std::size_t>(lf - data) + 1;
      skipping_ = false;
      continue;
    }
    if (lf == nullptr) {
      scan_ = end_;
      const std::size_t pending_size = end_ - begin_;
      // A line of exactly max_line may still be waiting for the LF of its CRLF.
      const bool may_end_in_crlf = pending_size == max_line_ + 1 && data[end_ - 1] == '\r';
      if (pending_size > max_line_ && !may_end_in_crlf) return {.what = status::too_long, .value = {}};
      return {.what = status::need_more, .value = {}};
    }
    const std::size_t stop = static_cast<std::size_t>(lf - data) + 1;
    const std::string_view raw(data + begin_, stop - begin_);
    const std::string_view text = strip_line_ending(raw);
    if (text.size() > max_line_) {
      scan_ = begin_;  // leave the line in place: too_long repeats until skipped
      return {.what = status::too_long, .value = {}};
    }
    begin_ = scan_ = stop;
    return {.what = status::line, .value = {.text = text, .raw = raw}};
  }
}

void line_splitter::skip_long_line() noexcept {
  skipping_ = true;
  scan_ = begin_;
}

std::string_view line_splitter::pending() const noexcept {
  return {buffer_.get() + begin_, end_ - begin_};
}

void line_splitter::release_if_empty() noexcept {
  if (begin_ != end_) return;
  begin_ = end_ = scan_ = 0;
  buffer_.reset();
  capacity_ = 0;
}

// ---------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------
std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), last, value);
  if (text.empty() || ec != std::errc{} || ptr != last || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::optional<host_port> parse_host_port(std::string_view text, std::uint16_t fallback_port) {
  // Brackets only ever enclose an IPv6 address: a host holding one could not be
  // written back unambiguously by format_host_port (found by fuzzing).
  const auto has_bracket = [](std::string_view host) {
    return host.find_first_of("[]") != std::string_view::npos;
  };
  host_port result{.host = std::string{}, .port = fallback_port};
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close == 1 || has_bracket(text.substr(1, close - 1)))
      return std::nullopt;
    result.host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (rest.empty()) return result;
    if (!rest.starts_with(':')) return std::nullopt;
    const auto port = parse_port(rest.substr(1));
    if (!port) return std::nullopt;
    result.port = *port;
    return result;
  }
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos) {
    // No port, or a bare IPv6 address such as ::1 (whose colons are not a port).
    if (text.empty() || has_bracket(text)) return std::nullopt;
    result.host = text;
    return result;
  }
  if (colon == 0 || has_bracket(text.substr(0, colon))) return std::nullopt;
  const auto port = parse_port(text.substr(colon + 1));
  if (!port) return std::nullopt;
  result.host = text.substr(0, colon);
  result.port = *port;
  return result;
}

std::string_view unbracketed(std::string_view host) noexcept {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

std::string format_host_port(std::string_view host, std::uint16_t port) {
  std::string out;
  const bool brackets = host.find(':') != std::string_view::npos;
  if (brackets) out += '[';
  out += host;
  if (brackets) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

}  // namespace coronet
