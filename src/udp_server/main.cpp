// SPDX-License-Identifier: BSL-1.0
// udp_server's command line: options, the io_context, the signals that stop
// it. The work is in udp_server.cpp.
#include <boost/asio/io_context.hpp>

#include <utility>

#include "coronet/command_line.hpp"
#include "coronet/console.hpp"
#include "coronet/program.hpp"
#include "udp_server/udp_server.hpp"

namespace asio = boost::asio;

int main(int argc, char** argv) try {
  coronet::udp_server_options options;
  bool no_reply = false;
  CLI::App app("Prints every datagram as the seed's UDP server did, and echoes it back.", "udp_server");
  coronet::add_common_flags(app, "udp_server");
  app.add_option("--listen", options.listen, "Address to listen on (0.0.0.0 or :: reach other machines)")
      ->capture_default_str();
  app.add_option("--port", options.port, "Port (0: any free port)")->capture_default_str();
  app.add_flag("--no-reply", no_reply, "Only print, send nothing back (the seed's behaviour)");
  app.add_flag("--verbose", options.verbose, "Report the size and sender of every datagram on stderr");
  if (const auto exit_code = coronet::parse_command_line(app, argc, argv)) return *exit_code;
  options.reply = !no_reply;

  // A console that goes away (`udp_server | head -1`) leaves the server serving.
  coronet::ignore_broken_pipes();
  // The console is written by threads of its own, so that a console that
  // stops reading (a pipe nobody drains, a terminal paused with Ctrl-S) never
  // stops the server; what it cannot take is counted and reported. Each line
  // waits in `out` until the server is about to wait for the next datagram.
  coronet::console_output out(1);
  coronet::console_output err(2);

  asio::io_context io(1);
  // SIGINT/SIGTERM (Ctrl-C, Ctrl-Break) cancel serve_datagrams(), which then
  // flushes what it printed and returns. The signals are ours before
  // "listening on" tells anyone to send them.
  coronet::stop_signals signals(io);
  auto socket = coronet::open_udp_server(io.get_executor(), options, err);
  if (!socket) return 1;
  return coronet::run_to_exit_code(
      io, io.get_executor(), signals,
      coronet::exit_code_zero(coronet::serve_datagrams(std::move(*socket), std::move(options), &out, &err)),
      coronet::signal_exit::clean, err, "udp_server");
} catch (...) {
  return coronet::exit_unexpected("udp_server");
}
