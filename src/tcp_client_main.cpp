// tcp_client's command line; the client itself is in tcp_client.cpp.
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>
#include <limits>

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#endif

#include "coronet/net.hpp"
#include "tcp_client.hpp"

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

// Ctrl-C (or SIGTERM) ends the client where it stands; the exit code says which signal.
asio::awaitable<int> run_until_signal(coronet::client_options options, coronet::console con) {
  asio::signal_set signals(co_await asio::this_coro::executor, SIGINT, SIGTERM);
  auto first_to_end = co_await (coronet::run_client(std::move(options), con) ||
                                signals.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (first_to_end.index() == 0) co_return std::get<0>(first_to_end);
  co_return 128 + std::get<1>(std::get<1>(first_to_end));
}

int main(int argc, char** argv) {
  coronet::client_options options;
  double connect_timeout = std::chrono::duration<double>(options.connect_timeout).count();
  CLI::App app{"Full-duplex line client: typed lines go to the server, its lines are printed."};
  coronet::add_common_flags(app, "tcp_client");
  app.add_option("host", options.host, "Server name or address")->capture_default_str();
  app.add_option("port", options.port, "Server port")->check(CLI::Range(1, 65535))->capture_default_str();
  app.add_option("--connect-timeout", connect_timeout, "Seconds to wait for each address to answer")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  app.add_option("--max-line", options.max_line, "Longest line in bytes, typed or received")
      ->check(CLI::Range(std::size_t{1}, std::numeric_limits<std::size_t>::max() / 2))
      ->capture_default_str();
  app.add_flag("--verbose", options.verbose, "Report each address tried");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help and --version are not errors
  }
  options.connect_timeout =
      std::chrono::ceil<std::chrono::milliseconds>(std::chrono::duration<double>(connect_timeout));

#ifdef _WIN32
  // Received bytes go to stdout unchanged: no "\n" -> "\r\n" translation.
  _setmode(_fileno(stdout), _O_BINARY);
#endif

  asio::io_context io(1);
  coronet::console_input input(io.get_executor(), options.max_line);
  input.read_stdin();
  const coronet::console con{input, std::cout, std::cerr, coronet::stdout_is_terminal()};
  int exit_code = 1;
  asio::co_spawn(io, run_until_signal(std::move(options), con),
                 [&](const std::exception_ptr& error, int code) {
                   if (error) std::rethrow_exception(error);  // out of io.run(), to the handler below
                   exit_code = code;
                 });
  try {
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "tcp_client: unexpected error: " << e.what() << '\n';
    return 1;
  }
  return exit_code;
}
