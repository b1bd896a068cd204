// SPDX-License-Identifier: BSL-1.0
// The POSIX descriptor calls of the tests that point stdin at a pipe or a
// file, or read what a console wrote, under one spelling on Linux and on
// Windows, whose C runtime names them _pipe, _read, _write... and has no
// ssize_t. (Only the tests use these: the programs use Asio and src/console.cpp.)
#pragma once

#include <cstddef>
#include <cstdio>

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#include <windows.h>
#else
#include <sys/ioctl.h>
#include <unistd.h>
#endif

namespace coronet::testing::posix {

// A pipe of 64 KiB, like Linux's; bytes as they are (no text mode).
inline int pipe(int (&fds)[2]) {
#ifdef _WIN32
  return ::_pipe(fds, 65536, _O_BINARY);
#else
  return ::pipe(fds);
#endif
}

inline long read(int fd, void* data, std::size_t size) {
#ifdef _WIN32
  return ::_read(fd, data, static_cast<unsigned>(size));
#else
  return static_cast<long>(::read(fd, data, size));
#endif
}

inline long write(int fd, const void* data, std::size_t size) {
#ifdef _WIN32
  return ::_write(fd, data, static_cast<unsigned>(size));
#else
  return static_cast<long>(::write(fd, data, size));
#endif
}

inline int close(int fd) {
#ifdef _WIN32
  return ::_close(fd);
#else
  return ::close(fd);
#endif
}

inline int dup(int fd) {
#ifdef _WIN32
  return ::_dup(fd);
#else
  return ::dup(fd);
#endif
}

inline int dup2(int fd, int to) {
#ifdef _WIN32
  return ::_dup2(fd, to);
#else
  return ::dup2(fd, to);
#endif
}

inline int fileno(std::FILE* file) {
#ifdef _WIN32
  return ::_fileno(file);
#else
  return ::fileno(file);
#endif
}

// The bytes written into a pipe and not read yet; -1 on an error.
inline long unread(int fd) {
#ifdef _WIN32
  DWORD available = 0;
  const auto pipe = reinterpret_cast<HANDLE>(::_get_osfhandle(fd));
  if (!::PeekNamedPipe(pipe, nullptr, 0, nullptr, &available, nullptr)) return -1;
  return static_cast<long>(available);
#else
  int available = 0;
  if (::ioctl(fd, FIONREAD, &available) != 0) return -1;
  return available;
#endif
}

}  // namespace coronet::testing::posix
