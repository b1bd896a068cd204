// SPDX-License-Identifier: BSL-1.0
// What the four programs' main() functions share: the signals that stop a
// program, how its top coroutine becomes the exit code, and the few settings
// a program makes before it starts.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <memory>
#include <optional>
#include <ostream>
#include <string_view>

#include "coronet/awaitable.hpp"

namespace coronet {

// What a stop signal means for the exit code: a server's normal way to stop
// (exit 0 once it has shut down), or a client interrupted (128 + the signal,
// as a shell reports it).
enum class signal_exit { clean, interrupted };

// SIGINT and SIGTERM (and Ctrl-Break on Windows), caught for the program's
// whole life. The first cancels the program; any that come after it, up to
// the very end of the process, find the program already stopping and change
// nothing: the exit code stays what the program and `signal_exit` make it,
// never death by the signal. Create it before the program tells anyone it is
// ready ("listening on ..."), so that a signal sent at once is caught too.
//
// On POSIX a signal goes to any one thread that does not block it, and
// Asio's handler, which hands it to the io_context, runs there. So the
// constructor blocks the signals in the calling thread, and every thread
// started after it inherits that (Asio's resolver thread among them); one
// thread of this class's own takes them. The destructor ends that thread:
// from then on no thread takes a stop signal, which stays pending until the
// process has exited, and the default action Asio restores when the
// signal_set goes never runs. Create it in main() before starting any thread
// that does not block signals itself (the console's threads do).
class stop_signals {
 public:
  explicit stop_signals(asio::io_context& io);
  // Destroy it after io's threads have stopped.
  ~stop_signals();
  stop_signals(const stop_signals&) = delete;
  stop_signals& operator=(const stop_signals&) = delete;

  // Runs `program` until it ends, or until the first signal cancels it and
  // it has then ended. Its exit code, or 128 + the signal (see signal_exit).
  asio::awaitable<int> run_until_stopped(asio::awaitable<int> program, signal_exit rule);

 private:
  std::optional<asio::signal_set> signals_;
#ifndef _WIN32
  struct catcher;  // the thread that takes the signals
  std::unique_ptr<catcher> catcher_;
#endif
};

// Runs `program`, the program's top coroutine, on `executor` until it ends or
// a signal stops it, with `threads` threads running `io` (the caller's among
// them). The exit code as stop_signals::run_until_stopped() says; an
// exception escaping the program is reported on `err` as "NAME: unexpected
// error: WHAT" and gives 1.
int run_to_exit_code(asio::io_context& io, const asio::any_io_executor& executor, stop_signals& signals,
                     asio::awaitable<int> program, signal_exit rule, std::ostream& err, std::string_view name,
                     unsigned threads = 1);

// main()'s last resort, for what throws before or after the program's
// coroutine runs (the command line, the io_context, a thread that could not
// start): reports the exception being handled on stderr as "NAME: unexpected
// error: WHAT" and gives 1, as run_to_exit_code() does for the program's own.
// Call it only in a handler, the one of main()'s function-try-block:
//   int main(int argc, char** argv) try { ... } catch (...) { return coronet::exit_unexpected("NAME"); }
int exit_unexpected(std::string_view name) noexcept;

// A server's program that returns nothing: its exit code is 0 unless it throws.
asio::awaitable<int> exit_code_zero(asio::awaitable<void> program);

// A server's console may go away (`tcp_server | head -1`): a write to it must
// then fail, not kill the server with SIGPIPE. (Sockets never raise it: Asio
// sends with MSG_NOSIGNAL.) Clients keep the default and end like netcat.
void ignore_broken_pipes();

// Windows: stdout carries bytes as they are, no "\n" -> "\r\n" translation,
// so that a client's output in a pipe is exactly what it received.
void use_binary_stdout();

}  // namespace coronet
