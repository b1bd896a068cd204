// SPDX-License-Identifier: BSL-1.0
// The POSIX descriptor calls of the tests that point stdin at a pipe or a
// file, or read what a console wrote, under one spelling on Linux and on
// Windows, whose C runtime names them _pipe, _read, _write... and has no
// ssize_t. (Only the tests use these: the programs use Asio and src/console.cpp.)
#pragma once

#include <cstddef>
#include <cstdio>
#include <string_view>

// One block a platform: each names the same functions, so a reader sees a
// platform's spelling of them all at once.
#ifdef _WIN32

#include <fcntl.h>
#include <io.h>
#include <windows.h>

namespace coronet::testing::posix {

// What pipe() makes: 64 KiB, like Linux's.
inline constexpr unsigned pipe_size = 65536;

// A pipe of pipe_size bytes; bytes as they are (no text mode).
inline int pipe(int (&fds)[2]) {
  return ::_pipe(fds, pipe_size, _O_BINARY);
}
inline long read(int fd, void* data, std::size_t size) {
  return ::_read(fd, data, static_cast<unsigned>(size));
}
inline long write(int fd, const void* data, std::size_t size) {
  return ::_write(fd, data, static_cast<unsigned>(size));
}
inline int close(int fd) {
  return ::_close(fd);
}
inline int dup(int fd) {
  return ::_dup(fd);
}
inline int dup2(int fd, int to) {
  return ::_dup2(fd, to);
}
inline int fileno(std::FILE* file) {
  return ::_fileno(file);
}

// The bytes written into a pipe and not read yet; -1 on an error.
inline long unread(int fd) {
  DWORD available = 0;
  const auto pipe = reinterpret_cast<HANDLE>(::_get_osfhandle(fd));
  if (!::PeekNamedPipe(pipe, nullptr, 0, nullptr, &available, nullptr)) return -1;
  return static_cast<long>(available);
}

// Writes `line` into the pipe (read end `in`, write end `out`) again and
// again until it has no room for another: a console that is behind. The
// copies written. (A write never has to wait here: there is room for it.)
inline int fill(int in, int out, std::string_view line) {
  int copies = 0;
  while (unread(in) + static_cast<long>(line.size()) <= static_cast<long>(pipe_size)) {
    if (write(out, line.data(), line.size()) != static_cast<long>(line.size())) return -1;
    ++copies;
  }
  return copies;
}

}  // namespace coronet::testing::posix

#else

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>

namespace coronet::testing::posix {

// The system's own calls, but for the two whose ssize_t becomes long here.
using ::close;
using ::dup;
using ::dup2;
using ::fileno;
using ::pipe;
inline long read(int fd, void* data, std::size_t size) {
  return static_cast<long>(::read(fd, data, size));
}
inline long write(int fd, const void* data, std::size_t size) {
  return static_cast<long>(::write(fd, data, size));
}

// The bytes written into a pipe and not read yet; -1 on an error.
inline long unread(int fd) {
  int available = 0;
  if (::ioctl(fd, FIONREAD, &available) != 0) return -1;
  return available;
}

// Writes `line` (at most PIPE_BUF bytes, so all of it or nothing) into the
// pipe (read end `in`, write end `out`) again and again until it has no room
// for another: a console that is behind. The copies written, or -1.
inline int fill(int /*in*/, int out, std::string_view line) {
  const int flags = ::fcntl(out, F_GETFL);
  if (flags < 0 || ::fcntl(out, F_SETFL, flags | O_NONBLOCK) != 0) return -1;
  int copies = 0;
  while (::write(out, line.data(), line.size()) == static_cast<ssize_t>(line.size())) ++copies;
  const bool full = errno == EAGAIN || errno == EWOULDBLOCK;
  if (::fcntl(out, F_SETFL, flags) != 0 || !full) return -1;
  return copies;
}

}  // namespace coronet::testing::posix

#endif
