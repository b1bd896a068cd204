// SPDX-License-Identifier: BSL-1.0
// The console's threads (the stdin reader, the output writers): how they are
// started. Internal to the shared module.
#pragma once

#include <thread>
#include <utility>

#ifndef _WIN32
#include <pthread.h>
#include <signal.h>
#endif

namespace coronet {

// Starts a thread of the console's own, detached: a read of stdin or a write
// to a console that never reads again cannot be cancelled, and must not hold
// the process up. It never takes a signal: SIGINT and SIGTERM are taken by
// the one thread coronet::stop_signals keeps for them (a console thread may
// start before it), and a thread that took one after the program had begun
// to stop would undo its promise to hold them off until the exit.
template <typename Function>
inline void start_console_thread(Function function) {
#ifdef _WIN32
  std::thread(std::move(function)).detach();
#else
  sigset_t all;
  sigset_t previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &previous);  // the new thread inherits this mask
  std::thread(std::move(function)).detach();
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
#endif
}

}  // namespace coronet
