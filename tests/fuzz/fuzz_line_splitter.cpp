// SPDX-License-Identifier: BSL-1.0
// Fuzzes coronet::line_splitter with random bytes cut into random reads.
//
// The reference is an independent model of the framing rules (protocol.hpp):
// split the whole input at every LF; a line whose text (without LF or CRLF) is
// longer than max_line is one too_long event and is dropped up to its LF; an
// unfinished last line is too_long as soon as it is longer than max_line, unless
// it is exactly max_line + 1 bytes ending in CR (its LF may still come).
// The splitter, fed the same bytes in any chunking, must produce the same events,
// and its lines (raw, endings included), the overlong lines it dropped and what
// it has pending must rejoin to the input byte for byte.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/protocol.hpp"

namespace {

struct event {
  bool too_long = false;
  std::string raw;  // the line with its ending, when !too_long
  friend bool operator==(const event&, const event&) = default;
};

struct outcome {
  std::vector<event> events;
  std::string pending;
};

std::string_view text_of(std::string_view raw) {
  if (raw.ends_with('\n')) raw.remove_suffix(1);
  if (raw.ends_with('\r')) raw.remove_suffix(1);
  return raw;
}

outcome model(std::string_view input, std::size_t max_line) {
  outcome out;
  while (!input.empty()) {
    const auto lf = input.find('\n');
    if (lf == std::string_view::npos) {
      const bool waits_for_crlf = input.size() == max_line + 1 && input.back() == '\r';
      if (input.size() > max_line && !waits_for_crlf) {
        out.events.push_back({true, {}});
      } else {
        out.pending = input;
      }
      break;
    }
    const auto raw = input.substr(0, lf + 1);
    input.remove_prefix(lf + 1);
    if (text_of(raw).size() > max_line) {
      out.events.push_back({true, {}});
    } else {
      out.events.push_back({false, std::string(raw)});
    }
  }
  return out;
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "line_splitter broke its promise: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider provider(data, size);
  // The parameters and the read sizes come from the end of the input, the
  // stream's bytes from the front: mutations of one leave the other in place.
  const auto max_line = provider.ConsumeIntegralInRange<std::size_t>(0, 300);
  const auto read_size = provider.ConsumeIntegralInRange<std::size_t>(1, 512);

  coronet::line_splitter splitter(max_line, read_size);
  std::string input;
  outcome got;
  while (provider.remaining_bytes() > 0) {
    const auto space = splitter.prepare();
    // At least one byte; the buffer (what is held plus the space) never
    // past the longest legal line with its CRLF plus one read.
    if (space.empty()) fail("prepare() gave no space");
    if (splitter.pending().size() + space.size() > max_line + 2 + read_size)
      fail("buffer grew past its bound");
    const auto wanted = provider.ConsumeIntegralInRange<std::size_t>(0, space.size());
    const auto bytes = provider.ConsumeBytes<char>(wanted);
    std::copy(bytes.begin(), bytes.end(), space.begin());
    splitter.commit(bytes.size());
    input.append(bytes.begin(), bytes.end());
    while (true) {
      const auto r = splitter.next();
      if (r.what == coronet::line_splitter::status::need_more) break;
      if (r.what == coronet::line_splitter::status::too_long) {
        got.events.push_back({true, {}});
        splitter.skip_long_line();
        continue;
      }
      if (r.value.text != text_of(r.value.raw)) fail("text is not raw without its ending");
      if (!r.value.raw.ends_with('\n')) fail("a line without its LF");
      got.events.push_back({false, std::string(r.value.raw)});
    }
    // Between reads only an unfinished line is held: at most max_line + 1 bytes.
    if (splitter.pending().size() > max_line + 1) fail("pending grew past max_line + 1");
    if (provider.ConsumeBool()) splitter.release_if_empty();
  }
  got.pending = splitter.pending();

  const auto expected = model(input, max_line);
  if (got.events != expected.events) fail("lines or too_long events differ from the model");
  if (got.pending != expected.pending) fail("pending differs from the model");

  // Rejoined: every line's raw bytes, the dropped overlong lines, then pending.
  const bool any_too_long =
      std::any_of(got.events.begin(), got.events.end(), [](const event& e) { return e.too_long; });
  if (!any_too_long) {
    std::string rejoined;
    for (const auto& e : got.events) rejoined += e.raw;
    rejoined += got.pending;
    if (rejoined != input) fail("lines and pending do not rejoin to the input");
  }
  return 0;
}
