// udp_server's command line: options, the io_context, the signals that stop
// it. The work is in udp_server.cpp.
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <exception>
#include <iostream>

#include "coronet/net.hpp"
#include "udp_server.hpp"

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

// SIGINT/SIGTERM (Ctrl-C, Ctrl-Break) cancel serve_datagrams(), which then
// flushes what it printed and returns.
asio::awaitable<void> serve_until_signal(coronet::udp::socket socket, coronet::udp_server_options options) {
  asio::signal_set signals(co_await asio::this_coro::executor, SIGINT, SIGTERM);
#ifdef SIGBREAK
  signals.add(SIGBREAK);
#endif
  co_await (coronet::serve_datagrams(std::move(socket), std::move(options), std::cout, std::cerr) ||
            signals.async_wait(asio::as_tuple(asio::use_awaitable)));
}

int main(int argc, char** argv) {
  coronet::udp_server_options options;
  bool no_reply = false;
  CLI::App app("Prints every datagram as the seed's UDP server did, and echoes it back.", "udp_server");
  coronet::add_common_flags(app, "udp_server");
  app.add_option("--listen", options.listen, "Address to listen on (0.0.0.0 or :: reach other machines)")
      ->capture_default_str();
  app.add_option("--port", options.port, "Port (0: any free port)")->capture_default_str();
  app.add_flag("--no-reply", no_reply, "Only print, send nothing back (the seed's behaviour)");
  app.add_flag("--verbose", options.verbose, "Report the size and sender of every datagram on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help and --version are not errors
  }
  options.reply = !no_reply;

  // cout keeps its own buffer instead of going through stdio: the server
  // flushes it whenever it is about to wait for the next datagram.
  std::ios::sync_with_stdio(false);

  asio::io_context io(1);
  auto socket = coronet::open_udp_server(io.get_executor(), options, std::cerr);
  if (!socket) return 1;
  int exit_code = 0;
  asio::co_spawn(io, serve_until_signal(std::move(*socket), std::move(options)),
                 [&](const std::exception_ptr& error) {
                   if (!error) return;
                   exit_code = 1;
                   try {
                     std::rethrow_exception(error);
                   } catch (const std::exception& e) {
                     std::cerr << "udp_server: unexpected error: " << e.what() << '\n';
                   }
                 });
  io.run();
  return exit_code;
}
