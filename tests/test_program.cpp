// SPDX-License-Identifier: BSL-1.0
// How a program's top coroutine ends: its exit code, or an error that is
// printed. The programs' mains all go through run_to_exit_code().
#include "coronet/program.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>

#include <sstream>
#include <stdexcept>

namespace {

namespace asio = boost::asio;

asio::awaitable<int> fail_at_once() {
  throw std::runtime_error("the listening socket is gone");
  co_return 0;  // makes this a coroutine: the throw happens when it runs
}

asio::awaitable<int> end_with(int code) {
  co_return code;
}

}  // namespace

TEST_CASE("a program that throws is reported and gives 1, without waiting for a signal") {
  // Before, `program || signal` waited for the first branch that succeeded:
  // the thrown error left it waiting for a Ctrl-C that never came.
  asio::io_context io;
  coronet::stop_signals signals(io);
  std::ostringstream err;
  const int code = coronet::run_to_exit_code(io, io.get_executor(), signals, fail_at_once(),
                                             coronet::signal_exit::clean, err, "tcp_server");
  CHECK(code == 1);
  CHECK(err.str() == "tcp_server: unexpected error: the listening socket is gone\n");
}

TEST_CASE("a program's own exit code is the process's") {
  asio::io_context io;
  coronet::stop_signals signals(io);
  std::ostringstream err;
  const int code = coronet::run_to_exit_code(io, io.get_executor(), signals, end_with(3),
                                             coronet::signal_exit::interrupted, err, "tcp_client");
  CHECK(code == 3);
  CHECK(err.str().empty());
}
