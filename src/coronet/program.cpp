// SPDX-License-Identifier: BSL-1.0
#include "coronet/program.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "coronet/awaitable.hpp"

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#else
#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX declares pthread_sigmask here
#endif

namespace coronet {

using namespace asio::experimental::awaitable_operators;

#ifndef _WIN32
// Waits, with the stop signals unblocked, until told to end: the one thread
// of the program that takes them.
struct stop_signals::catcher {
  catcher() {
    thread = std::thread([this] {
      ::pthread_sigmask(SIG_UNBLOCK, &stopping, nullptr);
      std::unique_lock lock(mutex);
      done_changed.wait(lock, [this] { return done; });
    });
  }
  ~catcher() {
    {
      const std::scoped_lock lock(mutex);
      done = true;
    }
    done_changed.notify_one();
    thread.join();
  }
  catcher(const catcher&) = delete;
  catcher& operator=(const catcher&) = delete;

  static sigset_t stop_set() {
    sigset_t set;
    ::sigemptyset(&set);
    ::sigaddset(&set, SIGINT);
    ::sigaddset(&set, SIGTERM);
    return set;
  }

  const sigset_t stopping = stop_set();
  std::mutex mutex;
  std::condition_variable done_changed;
  bool done = false;
  std::thread thread;
};
#endif

stop_signals::stop_signals(asio::io_context& io) {
#ifndef _WIN32
  const sigset_t stopping = catcher::stop_set();
  ::pthread_sigmask(SIG_BLOCK, &stopping, nullptr);  // this thread, and every one it starts from now on
#endif
  signals_.emplace(io, SIGINT, SIGTERM);
#ifdef SIGBREAK
  signals_->add(SIGBREAK);
#endif
#ifndef _WIN32
  catcher_ = std::make_unique<catcher>();
#endif
}

stop_signals::~stop_signals() {
#ifdef _WIN32
  // Asio gives the signals back to the default action when the set goes:
  // ignore them from then on (a moment in between cannot be avoided here).
  signals_.reset();
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGBREAK, SIG_IGN);
#else
  catcher_.reset();  // no thread takes them now: they stay pending until the exit
  signals_.reset();
#endif
}

namespace {

// What a program ended with: its exit code, or the exception it threw.
struct program_end {
  int exit_code = 1;
  std::exception_ptr failure;
};

// `||` waits for the first branch that *succeeds*: a program that threw would
// leave it waiting for a signal, and its error would never be printed. So
// the program's exception travels as a value, and the branch always succeeds.
asio::awaitable<program_end> catch_failure(asio::awaitable<int> program) {
  try {
    co_return program_end{.exit_code = co_await std::move(program),
                          .failure = nullptr};  // suspends for the program's whole life
  } catch (...) {
    co_return program_end{.exit_code = 1, .failure = std::current_exception()};
  }
}

}  // namespace

asio::awaitable<int> stop_signals::run_until_stopped(asio::awaitable<int> program, signal_exit rule) {
  // Whichever ends first cancels the other: the signal cancels the program,
  // which may take its time to finish (a server says goodbye to its clients).
  // NOLINTNEXTLINE(bugprone-unchecked-optional-access): engaged from the constructor to the destructor
  auto first = co_await (catch_failure(std::move(program)) || signals_->async_wait(use_nothrow_awaitable));
  if (first.index() == 0) {
    const program_end& end = std::get<0>(first);
    if (end.failure) std::rethrow_exception(end.failure);
    co_return end.exit_code;
  }
  const int number = std::get<1>(std::get<1>(first));
  co_return rule == signal_exit::interrupted ? 128 + number : 0;
}

asio::awaitable<int> exit_code_zero(asio::awaitable<void> program) {
  co_await std::move(program);
  co_return 0;
}

int run_to_exit_code(asio::io_context& io, const asio::any_io_executor& executor, stop_signals& signals,
                     asio::awaitable<int> program, signal_exit rule, std::ostream& err, std::string_view name,
                     unsigned threads) {
  int exit_code = 1;
  std::string failure;
  asio::co_spawn(executor, signals.run_until_stopped(std::move(program), rule),
                 [&](const std::exception_ptr& e, int code) {
                   exit_code = code;
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& x) {
                     failure = x.what();
                   }
                 });
  std::vector<std::thread> helpers;
  for (unsigned i = 1; i < threads; ++i) helpers.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& helper : helpers) helper.join();
  if (failure.empty()) return exit_code;
  err << fmt::format("{}: unexpected error: {}\n", name, failure) << std::flush;
  return 1;
}

int exit_unexpected(std::string_view name) noexcept {
  try {
    try {
      throw;  // the exception main()'s handler is handling
    } catch (const std::exception& x) {
      fmt::print(stderr, "{}: unexpected error: {}\n", name, x.what());
    } catch (...) {
      fmt::print(stderr, "{}: unexpected error\n", name);
    }
  } catch (...) {
    return 1;  // stderr failed too: only the exit code is left to tell
  }
  return 1;
}

void ignore_broken_pipes() {
#ifdef SIGPIPE
  std::signal(SIGPIPE, SIG_IGN);
#endif
}

void use_binary_stdout() {
#ifdef _WIN32
  _setmode(_fileno(stdout), _O_BINARY);
#endif
}

}  // namespace coronet
