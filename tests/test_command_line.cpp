// SPDX-License-Identifier: BSL-1.0
// What the command lines share (command_line.hpp): a duration in seconds
// becomes whole milliseconds the same way in every program.
#include "coronet/command_line.hpp"

#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace {

using std::chrono::milliseconds;

// Parses `--wait TEXT` into a duration that starts at `start`: its value,
// or nothing when CLI11 refused the text.
std::optional<milliseconds> parse_wait(const std::string& text, double min,
                                       milliseconds start = milliseconds(7)) {
  milliseconds value = start;
  CLI::App app;
  coronet::add_seconds_option(app, "--wait", value, "Seconds to wait", min, 100.0);
  std::vector<std::string> args{text, "--wait"};  // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError&) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

TEST_CASE("a duration in seconds is kept to the nearest millisecond") {
  // Multiplied by 1000 and truncated, 1.001 s was 1000 ms; rounded up
  // (std::chrono::ceil), 2.007 s was 2008 ms.
  CHECK(parse_wait("1.001", 0.001) == milliseconds(1001));
  CHECK(parse_wait("2.007", 0.001) == milliseconds(2007));
  CHECK(parse_wait("0.3", 0.001) == milliseconds(300));
  CHECK(parse_wait("5", 0.001) == milliseconds(5000));
  CHECK(parse_wait("100", 0.001) == milliseconds(100000));
}

TEST_CASE("a duration in seconds is 0 only when it is 0") {
  CHECK(parse_wait("0", 0.0) == milliseconds(0));  // "never", where the range allows it
  CHECK(parse_wait("0.0001", 0.0) == milliseconds(1));
}

TEST_CASE("a duration in seconds outside its range is a usage error, and its default is shown") {
  CHECK_FALSE(parse_wait("0.0001", 0.001));
  CHECK_FALSE(parse_wait("101", 0.001));
  CHECK_FALSE(parse_wait("soon", 0.001));
  milliseconds value(1500);
  CLI::App app;
  const CLI::Option* option = coronet::add_seconds_option(app, "--wait", value, "Seconds to wait", 0.0, 10.0);
  CHECK(option->get_default_str() == "1.5");
  app.parse(std::vector<std::string>{});
  CHECK(value == milliseconds(1500));  // not given: the default stays
}
