// SPDX-License-Identifier: BSL-1.0
// tcp_server's command line: options, the io_context and its threads, the
// signals that shut it down. The work starts in server.cpp.
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coronet/command_line.hpp"
#include "coronet/console.hpp"
#include "coronet/program.hpp"
#include "tcp_server/fast_io.hpp"
#include "tcp_server/options.hpp"
#include "tcp_server/server.hpp"

namespace {

// The --mode word, one of those CLI::IsMember let through.
coronet::server_mode mode_named(std::string_view word) {
  for (const auto& [name, mode] : coronet::server_modes)
    if (name == word) return mode;
  return coronet::server_mode::chat;
}

// The --mode words, for CLI::IsMember and --help.
std::vector<std::string> mode_names() {
  std::vector<std::string> names;
  names.reserve(coronet::server_modes.size());
  for (const auto& [name, mode] : coronet::server_modes) names.emplace_back(name);
  return names;
}

}  // namespace

int main(int argc, char** argv) try {
  namespace asio = boost::asio;
  coronet::server_options options;

  CLI::App app("Serves the seed's TCP conversation to every client at once: chat, echo or room.",
               "tcp_server");
  coronet::add_common_flags(app, "tcp_server");
  app.add_option("--listen", options.listen, "Address to listen on (0.0.0.0 or :: reach other machines)")
      ->capture_default_str();
  app.add_option("--port", options.port, "Port (0: any free port)")->capture_default_str();
  std::string mode = "chat";
  app.add_option("--mode", mode, "chat, echo or room")
      ->check(CLI::IsMember(mode_names()))
      ->capture_default_str();
  app.add_option("--max-line", options.max_line, "Longest line in bytes, line ending excluded")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30))
      ->capture_default_str();
  coronet::add_seconds_option(app, "--idle-timeout", options.idle_timeout,
                              "Seconds without a complete line before a client is closed (0: never)", 0.0,
                              1e9);
  app.add_option("--max-connections", options.max_connections, "Clients served at once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24))
      ->capture_default_str();
  app.add_option("--threads", options.threads, "Threads running the server")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  app.add_flag("--verbose", options.verbose, "Report every connection on stderr");
  if (const auto exit_code = coronet::parse_command_line(app, argc, argv)) return *exit_code;
  options.mode = mode_named(mode);

  coronet::keep_freed_memory_for_reuse();  // a speed trick, see fast_io.hpp

  // A console that goes away (`tcp_server | head -1`) leaves the server serving.
  coronet::ignore_broken_pipes();
  // The console is written by threads of its own: a terminal paused with
  // Ctrl-S, or a pipe nobody reads, must not stop the server (declared first,
  // so that they are the last to go and get the final lines out).
  coronet::console_output out(1);
  coronet::console_output err(2);

  // One thread: io_context(1) lets Asio skip locking. More: the server's
  // shared state runs on a strand (and each connection on its own).
  asio::io_context io(static_cast<int>(options.threads));
  asio::any_io_executor server_executor = io.get_executor();
  if (options.threads > 1) server_executor = asio::make_strand(io);

  // SIGINT/SIGTERM (Ctrl-C, Ctrl-Break) cancel serve(), which then says
  // goodbye to every client. Caught before the "listening on" line: a script
  // that signals as soon as it reads that line gets a clean shutdown.
  coronet::stop_signals signals(io);
  auto acceptor = coronet::open_listener(io.get_executor(), options, err);
  if (!acceptor) return 1;

  coronet::console_input input(server_executor, options.max_line);
  if (options.mode == coronet::server_mode::chat) input.read_stdin();
  const coronet::console console{
      .input = input, .out = out, .err = err, .interactive = coronet::stdout_is_terminal()};

  const int exit_code = coronet::run_to_exit_code(
      io, server_executor, signals,
      coronet::exit_code_zero(coronet::serve(std::move(*acceptor), options, console)),
      coronet::signal_exit::clean, err, "tcp_server", options.threads);
  if (exit_code == 0) coronet::write_line(err, "server stopped");
  return exit_code;
} catch (...) {
  return coronet::exit_unexpected("tcp_server");
}
