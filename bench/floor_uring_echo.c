/* SPDX-License-Identifier: BSL-1.0 */
/* floor_uring_echo: the io_uring floor of the benchmark. The same job as
 * floor_tcp_echo (every byte written back as it arrives, no framing, one
 * thread, TCP_NODELAY), without the per-request system calls: one multishot
 * accept, one multishot receive per connection that the kernel fills from a
 * ring of provided buffers, and every send of a batch of completions handed
 * to the kernel in the one io_uring_enter that also waits for the next batch.
 * It shows what this kernel can do when the syscalls per request go away.
 *
 *   build/release/bin/floor_uring_echo --port 0    (prints "listening on 127.0.0.1:PORT")
 *
 * Loopback only. A connection has at most one send in flight; what it
 * received meanwhile waits, in order, in its provided buffers, and goes out
 * in one sendmsg when that send completes. Bytes a peer
 * does not read keep their buffers, so a connection that stops reading can
 * starve the others of buffers: fine for a floor, not for a server. */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "floor.h"

enum {
  queue_depth = 4096,
  completion_depth = 32768,
  buffer_count = 256, /* a power of two: the provided-buffer ring's size */
  buffer_size = 64 * 1024,
  max_pieces_per_send = 16,
  buffer_group = 0,
  no_buffer = -1,
};
enum operation { op_accept = 1, op_receive = 2, op_send = 3 };

static struct io_uring ring;
static struct io_uring_buf_ring* buffer_ring;
static char* buffer_memory;
static int buffers_free = buffer_count;
static int buffers_returned; /* added to the ring, not yet published */
static int starved_count;    /* connections waiting for buffers */

/* A received buffer waiting to be sent back: bytes [sent, length). */
struct piece {
  unsigned length, sent;
  int next;
};
static struct piece pieces[buffer_count];
/* A send covers the queued pieces from its first one on; its message lives
 * in the slot of that first piece until the send completes. */
static struct msghdr messages[buffer_count];
static struct iovec vectors[buffer_count][max_pieces_per_send];

struct connection {
  int open;
  int receiving;   /* a multishot receive is armed */
  int read_done;   /* EOF or an error: no more receives */
  int sending;     /* a send is in flight (from piece `first` on) */
  int starved;     /* the receive stopped for want of buffers */
  int first, last; /* queue of pieces, in arrival order */
};
static struct connection* connections;
static size_t connection_count;

static struct connection* connection_for(int fd) {
  if ((size_t)fd >= connection_count) {
    connections = grow_for_descriptor(connections, &connection_count, sizeof *connections, fd);
  }
  return &connections[fd];
}

static uint64_t pack(enum operation op, int fd) {
  return (uint64_t)op << 32 | (uint32_t)fd;
}

/* A free submission slot; when the queue is full, what it holds goes first. */
static struct io_uring_sqe* next_sqe(void) {
  struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  while (!sqe) {
    io_uring_submit(&ring);
    sqe = io_uring_get_sqe(&ring);
  }
  return sqe;
}

static void arm_accept(int listener) {
  struct io_uring_sqe* sqe = next_sqe();
  io_uring_prep_multishot_accept(sqe, listener, NULL, NULL, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, pack(op_accept, listener));
}

static void arm_receive(int fd) {
  struct io_uring_sqe* sqe = next_sqe();
  io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = buffer_group;
  io_uring_sqe_set_data64(sqe, pack(op_receive, fd));
  connection_for(fd)->receiving = 1;
}

/* One sendmsg for every piece queued, up to max_pieces_per_send. */
static void send_queued(int fd) {
  struct connection* c = connection_for(fd);
  struct iovec* vector = vectors[c->first];
  size_t count = 0;
  for (int id = c->first; id != no_buffer && count < max_pieces_per_send; id = pieces[id].next, ++count) {
    vector[count].iov_base = buffer_memory + (size_t)id * buffer_size + pieces[id].sent;
    vector[count].iov_len = pieces[id].length - pieces[id].sent;
  }
  struct msghdr* message = &messages[c->first];
  *message = (struct msghdr){.msg_iov = vector, .msg_iovlen = count};
  struct io_uring_sqe* sqe = next_sqe();
  io_uring_prep_sendmsg(sqe, fd, message, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, pack(op_send, fd));
  c->sending = 1;
}

/* The buffer goes back to the kernel's ring (published once per batch). */
static void return_buffer(int id) {
  io_uring_buf_ring_add(buffer_ring, buffer_memory + (size_t)id * buffer_size, buffer_size,
                        (unsigned short)id, io_uring_buf_ring_mask(buffer_count), buffers_returned++);
  ++buffers_free;
}

static void close_if_finished(int fd) {
  struct connection* c = connection_for(fd);
  if (!c->open || !c->read_done || c->sending || c->first != no_buffer) return;
  close(fd);
  c->open = 0;
}

/* The peer is gone: what waits for it is dropped, its receive woken up. */
static void abandon(int fd) {
  struct connection* c = connection_for(fd);
  for (int id = c->first; id != no_buffer; id = pieces[id].next) return_buffer(id);
  c->first = c->last = no_buffer;
  if (c->receiving) shutdown(fd, SHUT_RDWR);
  c->read_done = c->read_done || !c->receiving;
  starved_count -= c->starved;
  c->starved = 0;
  close_if_finished(fd);
}

static void on_accept(int listener, const struct io_uring_cqe* cqe) {
  if (!(cqe->flags & IORING_CQE_F_MORE)) arm_accept(listener);
  if (cqe->res < 0) {
    if (cqe->res == -EINVAL) {
      fprintf(stderr, "floor_uring_echo: multishot accept: %s (kernel older than 5.19?)\n",
              strerror(-cqe->res));
      exit(1);
    }
    return; /* out of descriptors, say: the next accept may work */
  }
  int fd = cqe->res, on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  struct connection* c = connection_for(fd);
  *c = (struct connection){.open = 1, .first = no_buffer, .last = no_buffer};
  arm_receive(fd);
}

static void on_receive(int fd, const struct io_uring_cqe* cqe) {
  struct connection* c = connection_for(fd);
  int more = (cqe->flags & IORING_CQE_F_MORE) != 0;
  c->receiving = more;
  if (cqe->res > 0) {
    int id = (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
    --buffers_free;
    pieces[id] = (struct piece){.length = (unsigned)cqe->res, .sent = 0, .next = no_buffer};
    if (c->read_done) {
      return_buffer(id); /* the peer is gone: nobody to send it to */
    } else {
      if (c->last == no_buffer) {
        c->first = id;
      } else {
        pieces[c->last].next = id;
      }
      c->last = id;
      if (!c->sending) send_queued(fd);
    }
    if (!more && !c->read_done) arm_receive(fd); /* the kernel ended it (CQ full, say): go on */
  } else if (cqe->res == -ENOBUFS && !c->read_done) {
    c->starved = 1; /* armed again once buffers come back */
    ++starved_count;
  } else if (!more) {
    c->read_done = 1; /* EOF, reset, or shut down by abandon() */
  }
  close_if_finished(fd);
}

static void on_send(int fd, const struct io_uring_cqe* cqe) {
  struct connection* c = connection_for(fd);
  c->sending = 0;
  if (cqe->res < 0) {
    abandon(fd);
    return;
  }
  /* The pieces it covered: those sent whole go back to the ring. */
  unsigned sent = (unsigned)cqe->res;
  while (sent > 0) {
    struct piece* p = &pieces[c->first];
    unsigned taken = sent < p->length - p->sent ? sent : p->length - p->sent;
    p->sent += taken;
    sent -= taken;
    if (p->sent < p->length) break;
    int id = c->first;
    c->first = p->next;
    if (c->first == no_buffer) c->last = no_buffer;
    return_buffer(id);
  }
  if (c->first != no_buffer) {
    send_queued(fd);
  } else {
    close_if_finished(fd);
  }
}

/* Connections whose receive ran out of buffers are armed again once some
 * are back, as many as there are free buffers. */
static void rearm_starved(void) {
  int budget = buffers_free;
  for (size_t fd = 0; fd < connection_count && starved_count > 0 && budget > 0; ++fd) {
    struct connection* c = &connections[fd];
    if (c->open && c->starved) {
      c->starved = 0;
      --starved_count;
      --budget;
      arm_receive((int)fd);
    }
  }
}

/* One submitter thread whose completions run when it asks for them
 * (DEFER_TASKRUN, Linux 6.1); older kernels get a plain ring. */
static void setup_ring(void) {
  struct io_uring_params params = {
      .flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
      .cq_entries = completion_depth};
  int error = io_uring_queue_init_params(queue_depth, &ring, &params);
  if (error == -EINVAL) {
    params = (struct io_uring_params){.flags = IORING_SETUP_CQSIZE, .cq_entries = completion_depth};
    error = io_uring_queue_init_params(queue_depth, &ring, &params);
  }
  if (error < 0) {
    fprintf(stderr, "floor_uring_echo: io_uring_setup: %s%s\n", strerror(-error),
            error == -EPERM ? " (is sysctl kernel.io_uring_disabled set?)" : "");
    exit(1);
  }

  size_t ring_bytes = buffer_count * sizeof(struct io_uring_buf);
  buffer_ring = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  buffer_memory = mmap(NULL, (size_t)buffer_count * buffer_size, PROT_READ | PROT_WRITE,
                       MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (buffer_ring == MAP_FAILED || buffer_memory == MAP_FAILED) {
    perror("floor_uring_echo: mmap");
    exit(1);
  }
  io_uring_buf_ring_init(buffer_ring);
  struct io_uring_buf_reg registration = {
      .ring_addr = (uint64_t)(uintptr_t)buffer_ring, .ring_entries = buffer_count, .bgid = buffer_group};
  error = io_uring_register_buf_ring(&ring, &registration, 0);
  if (error < 0) {
    fprintf(stderr, "floor_uring_echo: provided buffer ring: %s (kernel older than 5.19?)\n",
            strerror(-error));
    exit(1);
  }
  for (int id = 0; id < buffer_count; ++id) return_buffer(id);
  buffers_free = buffer_count;
  io_uring_buf_ring_advance(buffer_ring, buffers_returned);
  buffers_returned = 0;
}

int main(int argc, char** argv) {
  int port = parse_port(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  setup_ring();
  int listener = open_listener(port, 0, "floor_uring_echo");
  arm_accept(listener);

  for (;;) {
    /* The one system call per batch: submits every send queued below and
     * waits for at least one completion. */
    int error = io_uring_submit_and_wait(&ring, 1);
    if (error < 0 && error != -EINTR) {
      fprintf(stderr, "floor_uring_echo: io_uring_enter: %s\n", strerror(-error));
      return 1;
    }
    struct io_uring_cqe* cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      int fd = (int)(uint32_t)cqe->user_data;
      switch ((enum operation)(cqe->user_data >> 32)) {
        case op_accept:
          on_accept(fd, cqe);
          break;
        case op_receive:
          on_receive(fd, cqe);
          break;
        case op_send:
          on_send(fd, cqe);
          break;
      }
      ++seen;
    }
    io_uring_cq_advance(&ring, seen);
    if (buffers_returned) {
      io_uring_buf_ring_advance(buffer_ring, buffers_returned);
      buffers_returned = 0;
    }
    rearm_starved();
  }
}
