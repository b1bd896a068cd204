// tcp_server's command line: options, the io_context and its threads, the
// signals that shut it down. The work is in tcp_server.cpp.
#include <CLI/CLI.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>

#include <csignal>
#include <exception>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "coronet/net.hpp"
#include "tcp_server.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int main(int argc, char** argv) {
  namespace asio = boost::asio;
  coronet::server_options options;
  double idle_timeout_seconds = static_cast<double>(coronet::default_idle_timeout.count());

  CLI::App app("Serves the seed's TCP conversation to every client at once: chat, echo or room.",
               "tcp_server");
  coronet::add_common_flags(app, "tcp_server");
  app.add_option("--listen", options.listen, "Address to listen on (0.0.0.0 or :: reach other machines)")
      ->capture_default_str();
  app.add_option("--port", options.port, "Port (0: any free port)")->capture_default_str();
  std::string mode = "chat";
  app.add_option("--mode", mode, "chat, echo or room")
      ->check(CLI::IsMember({"chat", "echo", "room"}))
      ->capture_default_str();
  app.add_option("--max-line", options.max_line, "Longest line in bytes, line ending excluded")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30))
      ->capture_default_str();
  app.add_option("--idle-timeout", idle_timeout_seconds,
                 "Seconds without a complete line before a client is closed (0: never)")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  app.add_option("--max-connections", options.max_connections, "Clients served at once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24))
      ->capture_default_str();
  app.add_option("--threads", options.threads, "Threads running the server")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  app.add_flag("--verbose", options.verbose, "Report every connection on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, the version or the error
    return code == 0 ? 0 : 2;
  }
  options.mode = mode == "echo"   ? coronet::server_mode::echo
                 : mode == "room" ? coronet::server_mode::room
                                  : coronet::server_mode::chat;
  options.idle_timeout = std::chrono::milliseconds(static_cast<long long>(idle_timeout_seconds * 1000));

#if defined(__GLIBC__)
  // Read buffers come and go with every burst of traffic (an idle connection
  // holds none). By default glibc gives the top of its heap back to the
  // system whenever 128 KiB of it are free, and faults it in again with the
  // next burst: with long lines that cost more than the echo itself. Keep up
  // to 64 MiB of freed memory for reuse instead.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif

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
  // goodbye to every client. Both handlers run on the server's executor.
  // Registered before the "listening on" line: a script that signals as soon
  // as it reads that line must get a clean shutdown, not the default action.
  asio::cancellation_signal shutdown;
  asio::signal_set signals(server_executor, SIGINT, SIGTERM);
#ifdef SIGBREAK
  signals.add(SIGBREAK);
#endif
  signals.async_wait([&](coronet::error_code ec, int) {
    if (!ec) shutdown.emit(asio::cancellation_type::terminal);
  });
  auto acceptor = coronet::open_listener(io.get_executor(), options, err);
  if (!acceptor) return 1;

  coronet::console_input input(server_executor, options.max_line);
  if (options.mode == coronet::server_mode::chat) input.read_stdin();
  coronet::console console{input, out, err, coronet::stdout_is_terminal()};

  int exit_code = 0;
  asio::co_spawn(server_executor, coronet::serve(std::move(*acceptor), options, console),
                 asio::bind_cancellation_slot(shutdown.slot(), [&](const std::exception_ptr& e) {
                   signals.cancel();
                   if (!e) return;
                   exit_code = 1;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& x) {
                     err << "error: " << x.what() << '\n';
                   }
                 }));

  std::vector<std::thread> helpers;
  for (unsigned i = 1; i < options.threads; ++i) helpers.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& helper : helpers) helper.join();
  if (exit_code == 0) err << "server stopped\n";
  return exit_code;
}
