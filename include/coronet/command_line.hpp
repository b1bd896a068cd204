// SPDX-License-Identifier: BSL-1.0
// What the four command lines share (CLI11): --version, the clients'
// operands, durations in seconds, and the exit codes of parsing. Only the
// programs' main() files include it, and only they link CLI11.
#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>

namespace coronet {

// --version prints "NAME VERSION".
inline void add_common_flags(CLI::App& app, const std::string& program_name) {
  app.set_version_flag("--version", program_name + " " + CORONET_VERSION);
}

// A client's operands: HOST and PORT, the server it talks to.
inline void add_server_operands(CLI::App& app, std::string& host, std::uint16_t& port) {
  app.add_option("host", host, "Server name or address")->capture_default_str();
  app.add_option("port", port, "Server port")->check(CLI::Range(1, 65535))->capture_default_str();
}

// An option given in seconds, fractions allowed, from `min` to `max`, kept
// in whole milliseconds: rounded to the nearest, and never to 0 when it is
// not 0 (0 means "never" where the range allows it). `value` holds the
// default, shown in --help as CLI11 shows a number.
inline CLI::Option* add_seconds_option(CLI::App& app, const std::string& name,
                                       std::chrono::milliseconds& value, const std::string& description,
                                       double min, double max) {
  std::ostringstream shown;
  shown << std::chrono::duration<double>(value).count();
  const auto set = [&value](double seconds) {
    using std::chrono::milliseconds;
    const auto rounded = std::chrono::round<milliseconds>(std::chrono::duration<double>(seconds));
    value = seconds > 0 ? std::max(rounded, milliseconds(1)) : milliseconds(0);
  };
  return app.add_option_function<double>(name, set, description)
      ->check(CLI::Range(min, max))
      ->default_str(shown.str());
}

// Parses the command line. Nothing when the program should go on; else the
// exit code to leave with: 0 after --help or --version (CLI11 prints them), 2
// after a usage error (CLI11 says what was wrong).
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return std::nullopt;
}

}  // namespace coronet
