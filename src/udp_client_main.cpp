// udp_client's command line; the client itself is in udp_client.cpp.
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <iostream>

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#endif

#include "coronet/net.hpp"
#include "udp_client.hpp"

int main(int argc, char** argv) {
  namespace asio = boost::asio;
  coronet::udp_client_options options;
  double timeout_seconds = static_cast<double>(options.timeout.count()) / 1000;
  bool no_wait = false;
  CLI::App app{"Sends each typed line as one datagram and waits for its echo ('q' ends).", "udp_client"};
  coronet::add_common_flags(app, "udp_client");
  app.add_option("host", options.host, "Server name or address")->capture_default_str();
  app.add_option("port", options.port, "Server port")->check(CLI::Range(1, 65535))->capture_default_str();
  app.add_option("--timeout", timeout_seconds, "Seconds to wait for each echo (fractions allowed)")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  app.add_option("--retries", options.retries, "Times a line is sent again when no echo comes")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_flag("--no-wait", no_wait, "Fire and forget, like the seed's client");
  app.add_flag("--verbose", options.verbose, "Report resends and skipped replies on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help and --version are not errors
  }
  options.timeout = std::chrono::milliseconds(static_cast<long long>(timeout_seconds * 1000));
  options.wait_for_reply = !no_wait;

#ifdef _WIN32
  // Echoes go to stdout unchanged: no "\n" -> "\r\n" translation.
  _setmode(_fileno(stdout), _O_BINARY);
#endif

  asio::io_context io(1);
  coronet::console_input input(io.get_executor());
  input.read_stdin();
  const coronet::console console{input, std::cout, std::cerr, coronet::stdout_is_terminal()};
  int exit_code = 1;
  asio::co_spawn(io, coronet::run_udp_client(std::move(options), console),
                 [&](const std::exception_ptr& error, int code) {
                   if (error) std::rethrow_exception(error);  // out of io.run(), to the handler below
                   exit_code = code;
                 });
  try {
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "udp_client: unexpected error: " << e.what() << '\n';
    return 1;
  }
  return exit_code;
}
