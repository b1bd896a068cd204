// SPDX-License-Identifier: BSL-1.0
#include "tcp_server/descriptors.hpp"

#include <fmt/format.h>

#include <chrono>
#include <string>
#include <system_error>

#include "coronet/awaitable.hpp"
#include "coronet/console.hpp"
#include "coronet/net.hpp"
#include "tcp_server/client.hpp"
#include "tcp_server/server_state.hpp"

#ifndef _WIN32
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace coronet {

namespace {

int open_spare() {
#ifndef _WIN32
  return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
#else
  return -1;  // Windows runs out of sockets, not descriptors: no reserve to keep
#endif
}

// The descriptor limit, for the message that names it ("" where there is none to name).
std::string descriptor_limit() {
#ifndef _WIN32
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    return fmt::format(" (now {})", limit.rlim_cur);
#endif
  return "";
}

}  // namespace

descriptor_shortage::descriptor_shortage(const server* s) : s_(s), spare_(open_spare()) {}

descriptor_shortage::~descriptor_shortage() {
#ifndef _WIN32
  if (spare_ >= 0) ::close(spare_);
#endif
}

bool descriptor_shortage::began(const error_code& accept_error) {
  if (accept_error != asio::error::no_descriptors && accept_error != std::errc::too_many_files_open_in_system)
    return false;
  if (since_) return true;
  since_ = steady_clock::now();
  write_line(
      s_->console.err,
      fmt::format("accept failed: {}: the server cannot take more connections now; it turns new ones "
                  "away ('error: server full') until some close. Raise the limit (ulimit -n{}) or lower "
                  "--max-connections (now {})",
                  describe(accept_error), descriptor_limit(), s_->options.max_connections));
  return true;
}

bool descriptor_shortage::turn_away_one(tcp::acceptor& acceptor) {
#ifndef _WIN32
  if (spare_ < 0) spare_ = open_spare();  // a descriptor freed since the last try
  if (spare_ < 0) return false;
  ::close(spare_);
  error_code ec;
  acceptor.non_blocking(true, ec);  // never wait here: Linux fails an accept for want of a
                                    // descriptor before it looks for a connection, so none may wait
  tcp::socket socket = acceptor.accept(ec);
  if (!ec) {
    socket.non_blocking(true, ec);
    send_last_line(socket, "error: server full");
    socket.close(ec);
    ++turned_away_;
  }
  spare_ = open_spare();
  return true;
#else
  (void)acceptor;
  return false;
#endif
}

void descriptor_shortage::over() {
  if (!since_) return;
  const std::chrono::duration<double> lasted = steady_clock::now() - *since_;
  write_line(s_->console.err, fmt::format("accepting connections again after {:.1f} s out of descriptors; "
                                          "{} turned away meanwhile",
                                          lasted.count(), turned_away_));
  since_.reset();
  turned_away_ = 0;
}

}  // namespace coronet
