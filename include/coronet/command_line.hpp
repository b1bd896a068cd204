// SPDX-License-Identifier: BSL-1.0
// What the four command lines share (CLI11): --version, and the exit codes of
// parsing. Only the programs' main() files include it, and only they link CLI11.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
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
