// SPDX-License-Identifier: BSL-1.0
// tcp_client's command line; the client itself is in connect.cpp and
// conversation.cpp, its line editor at a terminal in line_editor.cpp.
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <iostream>
#include <limits>
#include <utility>

#include "coronet/command_line.hpp"
#include "coronet/console.hpp"
#include "coronet/program.hpp"
#include "tcp_client/client.hpp"
#ifdef CORONET_LINE_EDITOR
#include <optional>
#include <string>

#include "tcp_client/line_editor.hpp"
#endif

namespace asio = boost::asio;

int main(int argc, char** argv) try {
  coronet::client_options options;
  CLI::App app{"Full-duplex line client: typed lines go to the server, its lines are printed."};
  coronet::add_common_flags(app, "tcp_client");
  coronet::add_server_operands(app, options.host, options.port);
  coronet::add_seconds_option(app, "--connect-timeout", options.connect_timeout,
                              "Seconds to wait for each address to answer", 0.001, 86400.0);
  app.add_option("--max-line", options.max_line, "Longest line in bytes, typed or received")
      ->check(CLI::Range(std::size_t{1}, std::numeric_limits<std::size_t>::max() / 2))
      ->capture_default_str();
  app.add_flag("--verbose", options.verbose, "Report each address tried");
  app.footer(
      "Each line of stdin goes to the server. q or Q alone on a line is a command, not data, in a pipe too:\n"
      "it is sent, it ends the session, and what follows it is not sent (the client says so on stderr).\n"
      "HOST may be a name, an IPv4 address, or an IPv6 address with or without brackets ([::1] or ::1).");
  if (const auto exit_code = coronet::parse_command_line(app, argc, argv)) return *exit_code;

  // Received bytes go to stdout unchanged.
  coronet::use_binary_stdout();

  asio::io_context io(1);
  // Ctrl-C (or SIGTERM) ends the client where it stands; the exit code says which signal.
  coronet::stop_signals signals(io);
  coronet::console_input input(io.get_executor(), options.max_line);
  const coronet::console con{
      .input = input, .out = std::cout, .err = std::cerr, .interactive = coronet::stdout_is_terminal()};
  coronet::typed_line_editor hooks;
#ifdef CORONET_LINE_EDITOR
  // At a terminal (stdin and stdout), libedit edits the line being typed;
  // it starts with the conversation and gives the terminal back when it goes.
  std::optional<coronet::line_editor> editor;
  if (coronet::stdin_is_terminal() && con.interactive) {
    editor.emplace(input, std::string(coronet::send_prompt));
    hooks = editor->hooks();
  }
#endif
  if (!hooks) input.read_stdin();
  return coronet::run_to_exit_code(io, io.get_executor(), signals,
                                   coronet::run_client(std::move(options), con, std::move(hooks)),
                                   coronet::signal_exit::interrupted, std::cerr, "tcp_client");
} catch (...) {
  return coronet::exit_unexpected("tcp_client");
}
