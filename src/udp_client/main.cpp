// SPDX-License-Identifier: BSL-1.0
// udp_client's command line; the client itself is in udp_client.cpp.
#include <boost/asio/io_context.hpp>

#include <iostream>
#include <utility>

#include "coronet/command_line.hpp"
#include "coronet/console.hpp"
#include "coronet/program.hpp"
#include "udp_client/udp_client.hpp"

int main(int argc, char** argv) try {
  namespace asio = boost::asio;
  coronet::udp_client_options options;
  bool no_wait = false;
  CLI::App app{"Sends each typed line as one datagram and waits for its echo ('q' ends).", "udp_client"};
  coronet::add_common_flags(app, "udp_client");
  coronet::add_server_operands(app, options.host, options.port);
  coronet::add_seconds_option(app, "--timeout", options.timeout,
                              "Seconds to wait for each echo (fractions allowed)", 0.001, 86400.0);
  app.add_option("--retries", options.retries, "Times a line is sent again when no echo comes")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_flag("--no-wait", no_wait, "Fire and forget, like the seed's client");
  app.add_flag("--verbose", options.verbose, "Report resends and skipped replies on stderr");
  if (const auto exit_code = coronet::parse_command_line(app, argc, argv)) return *exit_code;
  options.wait_for_reply = !no_wait;

  // Echoes go to stdout unchanged.
  coronet::use_binary_stdout();

  asio::io_context io(1);
  // Ctrl-C (or SIGTERM) ends the client where it stands; the exit code says which signal.
  coronet::stop_signals signals(io);
  coronet::console_input input(io.get_executor());
  input.read_stdin();
  const coronet::console console{
      .input = input, .out = std::cout, .err = std::cerr, .interactive = coronet::stdout_is_terminal()};
  return coronet::run_to_exit_code(io, io.get_executor(), signals,
                                   coronet::run_udp_client(std::move(options), console),
                                   coronet::signal_exit::interrupted, std::cerr, "udp_client");
} catch (...) {
  return coronet::exit_unexpected("udp_client");
}
