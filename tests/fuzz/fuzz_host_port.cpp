// SPDX-License-Identifier: BSL-1.0
// Fuzzes the endpoint parser: whatever parse_host_port accepts, format_host_port
// writes back as text that parses to the same host and port; a port it accepts
// is exactly a decimal number 0..65535.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "coronet/protocol.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::string& input) {
  std::fprintf(stderr, "endpoint parser broke its promise: %s (input of %zu bytes)\n", what, input.size());
  std::abort();
}

// An independent reading of "a port number 0..65535 given as text".
bool is_port_text(const std::string& text) {
  if (text.empty() || text.size() > 16) return false;
  unsigned long value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned long>(c - '0');
  }
  return value <= 65535;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider provider(data, size);
  const auto fallback_port = provider.ConsumeIntegral<std::uint16_t>();
  const std::string text = provider.ConsumeRemainingBytesAsString();

  const auto port = coronet::parse_port(text);
  // Leading zeros make a long but valid port ("000080"); only judge short texts.
  if (text.size() <= 16 && port.has_value() != is_port_text(text)) fail("parse_port disagrees", text);
  if (port && coronet::parse_port(std::to_string(*port)) != port) fail("port round trip", text);

  const auto parsed = coronet::parse_host_port(text, fallback_port);
  if (!parsed) return 0;
  if (parsed->host.empty()) fail("accepted an empty host", text);
  const std::string formatted = coronet::format_host_port(parsed->host, parsed->port);
  const auto again =
      coronet::parse_host_port(formatted, fallback_port ^ 1);  // the port must come from the text
  if (!again) fail("formatted endpoint does not parse", text);
  if (*again != *parsed) fail("parse -> format -> parse changed the endpoint", text);
  if (coronet::format_host_port(again->host, again->port) != formatted) fail("format is not stable", text);
  return 0;
}
