/* SPDX-License-Identifier: BSL-1.0 */
/* floor_tcp_echo: the TCP floor of the benchmark. The least a server can do:
 * one thread, one epoll set, every byte written back as it arrives (no
 * framing, no lines), nonblocking sockets, TCP_NODELAY. What coronet's
 * tcp_server --mode echo does per byte can only cost more than this; the
 * benchmark reports every server as a fraction of it.
 *
 *   build/release/bin/floor_tcp_echo --port 0    (prints "listening on 127.0.0.1:PORT")
 *
 * Loopback only. Bytes the peer is not reading yet wait in a per-connection
 * buffer; that connection is not read again until they are written. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "floor.h"

enum { read_size = 64 * 1024, max_events = 256 };

/* Bytes read but not yet written back, per descriptor (NULL when none). */
struct backlog {
  char* data;
  size_t begin, end;
};
static struct backlog* backlogs;
static size_t backlog_count;

static struct backlog* backlog_for(int fd) {
  if ((size_t)fd >= backlog_count) {
    backlogs = grow_for_descriptor(backlogs, &backlog_count, sizeof *backlogs, fd);
  }
  return &backlogs[fd];
}

static void close_connection(int epoll_fd, int fd) {
  struct backlog* b = backlog_for(fd);
  free(b->data);
  b->data = NULL;
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
}

/* Writes what is waiting; 1 when all of it is out, 0 when the peer's window is full, -1 on error. */
static int flush_backlog(int fd, struct backlog* b) {
  while (b->begin < b->end) {
    ssize_t n = send(fd, b->data + b->begin, b->end - b->begin, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    b->begin += (size_t)n;
  }
  free(b->data);
  b->data = NULL;
  return 1;
}

static void watch(int epoll_fd, int fd, unsigned events) {
  struct epoll_event ev = {.events = events, .data.fd = fd};
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev);
}

/* Level-triggered: read once per readiness, write back at once. */
static void echo(int epoll_fd, int fd, char* buffer) {
  struct backlog* b = backlog_for(fd);
  ssize_t n = recv(fd, buffer, read_size, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    close_connection(epoll_fd, fd);
    return;
  }
  if (n < 0) return;
  ssize_t sent = send(fd, buffer, (size_t)n, MSG_NOSIGNAL);
  if (sent < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      close_connection(epoll_fd, fd);
      return;
    }
    sent = 0;
  }
  if (sent < n) {
    b->data = malloc((size_t)(n - sent));
    if (!b->data) abort();
    memcpy(b->data, buffer + sent, (size_t)(n - sent));
    b->begin = 0;
    b->end = (size_t)(n - sent);
    watch(epoll_fd, fd, EPOLLOUT);
  }
}

int main(int argc, char** argv) {
  int port = parse_port(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  int listener = open_listener(port, SOCK_NONBLOCK, "floor_tcp_echo");

  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener};
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &ev);
  static char buffer[read_size];
  struct epoll_event events[max_events];
  for (;;) {
    int ready = epoll_wait(epoll_fd, events, max_events, -1);
    if (ready < 0 && errno != EINTR) {
      perror("epoll_wait");
      return 1;
    }
    for (int i = 0; i < ready; ++i) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        int client;
        while ((client = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          int on = 1;
          setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
          struct epoll_event client_ev = {.events = EPOLLIN, .data.fd = client};
          epoll_ctl(epoll_fd, EPOLL_CTL_ADD, client, &client_ev);
        }
        continue;
      }
      struct backlog* b = backlog_for(fd);
      if (b->data) {
        int flushed = flush_backlog(fd, b);
        if (flushed < 0) close_connection(epoll_fd, fd);
        if (flushed > 0) watch(epoll_fd, fd, EPOLLIN);
      } else {
        echo(epoll_fd, fd, buffer);
      }
    }
  }
}
