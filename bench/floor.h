/* SPDX-License-Identifier: BSL-1.0 */
/* floor.h: what the two TCP floors (floor_tcp_echo.c, floor_uring_echo.c)
 * share: the command line, the loopback listener, and the table of
 * per-connection state indexed by descriptor. Nothing here runs per byte. */
#ifndef CORONET_BENCH_FLOOR_H
#define CORONET_BENCH_FLOOR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* --port PORT (or -p PORT), 5000 without arguments; anything else is a usage error. */
static inline int parse_port(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (strcmp(argv[i], "--port") == 0 || strcmp(argv[i], "-p") == 0) return atoi(argv[i + 1]);
  }
  if (argc > 1) {
    fprintf(stderr, "usage: %s [--port PORT]  (0 picks a free port)\n", argv[0]);
    exit(2);
  }
  return 5000;
}

/* A TCP listener on 127.0.0.1:port (socket_flags such as SOCK_NONBLOCK added
 * to SOCK_CLOEXEC), announced on stderr as scripts/bench expects. On failure
 * it says why under the program's name and exits. */
static inline int open_listener(int port, int socket_flags, const char* program) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | socket_flags, 0);
  int on = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(listener, (struct sockaddr*)&address, sizeof address) < 0 || listen(listener, SOMAXCONN) < 0 ||
      getsockname(listener, (struct sockaddr*)&address, &length) < 0) {
    perror(program);
    exit(1);
  }
  fprintf(stderr, "listening on 127.0.0.1:%d\n", ntohs(address.sin_port));
  return listener;
}

/* Grows a table of *count elements of element_size bytes so that index fd
 * fits (doubling from 1024), the new elements zeroed; returns the table,
 * perhaps moved. Callers index the table directly and call this only when
 * fd is past its end. */
static inline void* grow_for_descriptor(void* table, size_t* count, size_t element_size, int fd) {
  size_t grown = *count ? *count : 1024;
  while (grown <= (size_t)fd) grown *= 2;
  char* bytes = realloc(table, grown * element_size);
  if (!bytes) abort();
  memset(bytes + *count * element_size, 0, (grown - *count) * element_size);
  *count = grown;
  return bytes;
}

#endif
