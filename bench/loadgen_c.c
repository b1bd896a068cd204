/* SPDX-License-Identifier: BSL-1.0 */
/* loadgen_c: the benchmark's second load generator, independent of the first
 * (bench/loadgen.cpp, Asio coroutines): plain C, one thread, one epoll set,
 * nonblocking sockets. A server's figure depends on the client that drives
 * it; a target must hold whichever of the two does.
 *
 * N connections; each writes a batch of --depth lines of --line-size bytes
 * (LF included), reads until the whole batch is back, compares every byte
 * with the byte sent, and starts the next batch. Writing and reading go on at
 * the same time, so a batch larger than the socket buffers cannot deadlock.
 * Every line carries a stamp that changes with each batch (the scheme of
 * loadgen.cpp), so a stale, reordered or misrouted echo never compares equal.
 *
 *   build/release/bin/loadgen_c --port 5000 --connections 100 --line-size 64 --depth 1
 *
 * It prints a summary and the same "result ..." line as loadgen.cpp, so
 * scripts/bench reads both. TCP only. Latency is per batch: from writing its
 * first byte until its last byte is back. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct options {
  const char* host;
  int port;
  long connections, line_size, depth;
  double warmup, duration;
  int server_pid;
  const char* label;
};

struct client {
  int fd;
  char* sent; /* the batch in flight: depth lines */
  size_t written, received;
  uint64_t batch;
  int64_t started_ns;
  int watching_output; /* EPOLLOUT is on: part of the batch waits to be written */
  int done;
};

/* All clients run on this one thread: plain counters, no locks. */
static struct {
  int measuring, stopping;
  uint64_t requests, errors;
  int64_t* latency_ns;
  size_t samples, capacity;
  char first_error[256];
} rec;

static struct options opt = {"127.0.0.1", 0, 100, 64, 1, 1.0, 3.0, 0, "-"};
static size_t batch_size;
static int epoll_fd;
static size_t running; /* clients not done */

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void fail(const char* what, long client) {
  ++rec.errors;
  if (!rec.first_error[0])
    snprintf(rec.first_error, sizeof rec.first_error, "connection %ld: %s", client, what);
}

/* CPU seconds (user + system) a process has used, from /proc/PID/stat. */
static double cpu_seconds(const char* pid) {
  char path[64], text[1024];
  snprintf(path, sizeof path, "/proc/%s/stat", pid);
  FILE* file = fopen(path, "r");
  if (!file) return 0;
  size_t n = fread(text, 1, sizeof text - 1, file);
  fclose(file);
  text[n] = '\0';
  char* field = strrchr(text, ')');
  unsigned long user = 0, system = 0;
  if (!field ||
      sscanf(field + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &user, &system) != 2) {
    return 0;
  }
  return (double)(user + system) / (double)sysconf(_SC_CLK_TCK);
}

/* Connection (bits 44-63), batch (12-43) and slot (0-11) in 16 hex digits at
 * the start of each line, as loadgen.cpp does. */
static void stamp_batch(struct client* c, size_t index) {
  size_t digits = opt.line_size - 1 < 16 ? (size_t)opt.line_size - 1 : 16;
  for (long slot = 0; slot < opt.depth; ++slot) {
    uint64_t stamp = (uint64_t)index << 44 | (c->batch & 0xffffffff) << 12 | (uint64_t)slot;
    char* line = c->sent + (size_t)slot * (size_t)opt.line_size;
    for (size_t i = digits; i-- > 0; stamp >>= 4) line[i] = "0123456789abcdef"[stamp & 0xf];
  }
}

static void watch_output(struct client* c, size_t index, int on) {
  if (c->watching_output == on) return;
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u64 = index};
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
  c->watching_output = on;
}

static void finish(struct client* c) {
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->done = 1;
  --running;
}

/* Writes what the kernel takes now; the rest when EPOLLOUT says so. */
static void write_some(struct client* c, size_t index) {
  while (c->written < batch_size) {
    ssize_t n = send(c->fd, c->sent + c->written, batch_size - c->written, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      fail(strerror(errno), (long)index);
      finish(c);
      return;
    }
    c->written += (size_t)n;
  }
  watch_output(c, index, c->written < batch_size);
}

static void start_batch(struct client* c, size_t index) {
  ++c->batch;
  stamp_batch(c, index);
  c->written = c->received = 0;
  c->started_ns = now_ns();
  write_some(c, index);
}

static void record(int64_t started_ns) {
  if (!rec.measuring) return;
  rec.requests += (uint64_t)opt.depth;
  if (rec.samples == rec.capacity) {
    rec.capacity = rec.capacity ? 2 * rec.capacity : 65536;
    rec.latency_ns = realloc(rec.latency_ns, rec.capacity * sizeof *rec.latency_ns);
    if (!rec.latency_ns) abort();
  }
  rec.latency_ns[rec.samples++] = now_ns() - started_ns;
}

/* Reads at most what is still missing of the batch, compares it, and
 * completes the batch when all of it is back. */
static void read_some(struct client* c, size_t index, char* scratch, size_t scratch_size) {
  size_t missing = batch_size - c->received;
  ssize_t n = recv(c->fd, scratch, missing < scratch_size ? missing : scratch_size, 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n <= 0) {
    fail(n == 0 ? "the server closed the connection" : strerror(errno), (long)index);
    finish(c);
    return;
  }
  if (c->received + (size_t)n > c->written) {
    fail("echoed bytes not sent yet", (long)index);
    finish(c);
    return;
  }
  if (memcmp(scratch, c->sent + c->received, (size_t)n) != 0) {
    fail("echoed bytes differ from the bytes sent", (long)index);
    finish(c);
    return;
  }
  c->received += (size_t)n;
  if (c->received < batch_size) return;
  record(c->started_ns);
  if (rec.stopping) {
    finish(c);
  } else {
    start_batch(c, index);
  }
}

static int compare_samples(const void* a, const void* b) {
  int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

static double percentile_us(double fraction) {
  if (rec.samples == 0) return 0;
  size_t index = (size_t)(fraction * (double)rec.samples);
  if (index >= rec.samples) index = rec.samples - 1;
  return (double)rec.latency_ns[index] / 1000.0;
}

/* Blocking connects one after the other (a burst would overflow the
 * server's accept backlog), then nonblocking for the run. */
static int open_connection(const struct sockaddr_storage* server, socklen_t length) {
  int fd = socket(server->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (const struct sockaddr*)server, length) < 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

static void usage(const char* program, int status) {
  fprintf(
      status ? stderr : stdout,
      "usage: %s --port PORT [--host IP] [-c CONNECTIONS] [-l LINE_SIZE] [-d DEPTH]\n"
      "          [--warmup SECONDS] [--duration SECONDS] [--server-pid PID] [--label WORD] [--mode tcp]\n"
      "defaults: 127.0.0.1, 100 connections, 64 B lines (LF included), depth 1, 1 s warm-up, 3 s measured\n",
      program);
  exit(status);
}

static void parse_options(int argc, char** argv) {
  static const struct option long_options[] = {{"mode", required_argument, 0, 'm'},
                                               {"host", required_argument, 0, 'H'},
                                               {"port", required_argument, 0, 'p'},
                                               {"connections", required_argument, 0, 'c'},
                                               {"line-size", required_argument, 0, 'l'},
                                               {"depth", required_argument, 0, 'd'},
                                               {"warmup", required_argument, 0, 'w'},
                                               {"duration", required_argument, 0, 't'},
                                               {"server-pid", required_argument, 0, 's'},
                                               {"label", required_argument, 0, 'L'},
                                               {"help", no_argument, 0, 'h'},
                                               {0, 0, 0, 0}};
  int option;
  while ((option = getopt_long(argc, argv, "p:c:l:d:h", long_options, NULL)) != -1) {
    switch (option) {
      case 'm':
        if (strcmp(optarg, "tcp") != 0) {
          fprintf(stderr, "loadgen_c: only --mode tcp (loadgen does udp and idle)\n");
          exit(2);
        }
        break;
      case 'H':
        opt.host = optarg;
        break;
      case 'p':
        opt.port = atoi(optarg);
        break;
      case 'c':
        opt.connections = atol(optarg);
        break;
      case 'l':
        opt.line_size = atol(optarg);
        break;
      case 'd':
        opt.depth = atol(optarg);
        break;
      case 'w':
        opt.warmup = atof(optarg);
        break;
      case 't':
        opt.duration = atof(optarg);
        break;
      case 's':
        opt.server_pid = atoi(optarg);
        break;
      case 'L':
        opt.label = optarg;
        break;
      case 'h':
        usage(argv[0], 0);
        break;
      default:
        usage(argv[0], 2);
    }
  }
  if (optind != argc || opt.port <= 0 || opt.port > 65535 || opt.connections < 1 ||
      opt.connections > 1000000 || opt.line_size < 2 || opt.line_size > (1 << 20) || opt.depth < 1 ||
      opt.depth > 4096 || opt.warmup < 0 || opt.duration <= 0) {
    usage(argv[0], 2);
  }
}

int main(int argc, char** argv) {
  parse_options(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  struct sockaddr_storage server = {0};
  socklen_t server_length;
  struct sockaddr_in* v4 = (struct sockaddr_in*)&server;
  struct sockaddr_in6* v6 = (struct sockaddr_in6*)&server;
  if (inet_pton(AF_INET, opt.host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((unsigned short)opt.port);
    server_length = sizeof *v4;
  } else if (inet_pton(AF_INET6, opt.host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((unsigned short)opt.port);
    server_length = sizeof *v6;
  } else {
    fprintf(stderr, "loadgen_c: --host must be an IP address, not %s\n", opt.host);
    return 2;
  }

  batch_size = (size_t)opt.line_size * (size_t)opt.depth;
  size_t count = (size_t)opt.connections;
  struct client* clients = calloc(count, sizeof *clients);
  char* batches = malloc(count * batch_size);
  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (!clients || !batches || epoll_fd < 0) {
    perror("loadgen_c");
    return 1;
  }
  for (size_t i = 0; i < count; ++i) {
    struct client* c = &clients[i];
    c->sent = batches + i * batch_size;
    for (size_t b = 0; b < batch_size; ++b) {
      c->sent[b] = b % (size_t)opt.line_size == (size_t)opt.line_size - 1 ? '\n' : (char)('a' + b % 26);
    }
    c->fd = open_connection(&server, server_length);
    if (c->fd < 0) {
      fprintf(stderr, "loadgen_c: connect %zu to %s:%d: %s\n", i, opt.host, opt.port, strerror(errno));
      return 1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = i};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd, &ev);
  }

  const int64_t start = now_ns();
  const int64_t measure_from = start + (int64_t)(opt.warmup * 1e9);
  const int64_t measure_until = measure_from + (int64_t)(opt.duration * 1e9);
  const int64_t give_up_at = measure_until + 3000000000LL; /* for the batches in flight at the end */
  char server_pid[32];
  snprintf(server_pid, sizeof server_pid, "%d", opt.server_pid);
  double load_cpu = 0, server_cpu = 0;
  int64_t started = 0, ended = 0;
  running = count;
  for (size_t i = 0; i < count; ++i) start_batch(&clients[i], i);

  static char scratch[64 * 1024];
  struct epoll_event events[256];
  for (;;) {
    int64_t now = now_ns();
    if (!rec.measuring && !rec.stopping && now >= measure_from) {
      rec.measuring = 1;
      started = now;
      load_cpu = -cpu_seconds("self");
      if (opt.server_pid > 0) server_cpu = -cpu_seconds(server_pid);
    }
    if (rec.measuring && now >= measure_until) {
      rec.measuring = 0;
      rec.stopping = 1;
      ended = now;
      load_cpu += cpu_seconds("self");
      if (opt.server_pid > 0) server_cpu += cpu_seconds(server_pid);
    }
    if (running == 0 || now >= give_up_at) break;
    int64_t next = rec.stopping ? give_up_at : rec.measuring ? measure_until : measure_from;
    int timeout_ms = (int)((next - now) / 1000000) + 1;
    int ready = epoll_wait(epoll_fd, events, 256, timeout_ms);
    if (ready < 0 && errno != EINTR) {
      perror("loadgen_c: epoll_wait");
      return 1;
    }
    for (int e = 0; e < ready; ++e) {
      size_t i = (size_t)events[e].data.u64;
      struct client* c = &clients[i];
      if (c->done) continue;
      if (events[e].events & EPOLLOUT) write_some(c, i);
      if (!c->done && events[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        read_some(c, i, scratch, sizeof scratch);
      }
    }
  }
  size_t stalled = running;
  if (stalled > 0) {
    ++rec.errors;
    if (!rec.first_error[0]) {
      snprintf(rec.first_error, sizeof rec.first_error,
               "%zu clients still waiting for an echo 3 s after the end", stalled);
    }
  }

  const double seconds = (double)(ended - started) / 1e9;
  const double rps = seconds > 0 ? (double)rec.requests / seconds : 0;
  qsort(rec.latency_ns, rec.samples, sizeof *rec.latency_ns, compare_samples);
  const double p50 = percentile_us(0.50), p99 = percentile_us(0.99);
  load_cpu = seconds > 0 ? load_cpu / seconds : 0;
  server_cpu = seconds > 0 ? server_cpu / seconds : 0;
  printf("tcp %s:%d %ld x %ld B lines, depth %ld: %.0f requests/s, p50 %.1f us, p99 %.1f us, %llu errors\n",
         opt.host, opt.port, opt.connections, opt.line_size, opt.depth, rps, p50, p99,
         (unsigned long long)rec.errors);
  printf("CPU while measuring: load generator %.0f %%", 100 * load_cpu);
  if (opt.server_pid > 0) printf(", server %.0f %%", 100 * server_cpu);
  printf("\n");
  if (rec.first_error[0]) printf("first error: %s\n", rec.first_error);
  printf(
      "result mode=tcp label=%s connections=%ld line_size=%ld depth=%ld seconds=%.3f requests=%llu rps=%.0f "
      "p50_us=%.1f p99_us=%.1f errors=%llu lost=0 stalled=%zu load_cpu=%.2f server_cpu=%.2f\n",
      opt.label, opt.connections, opt.line_size, opt.depth, seconds, (unsigned long long)rec.requests, rps,
      p50, p99, (unsigned long long)rec.errors, stalled, load_cpu, server_cpu);
  return rec.errors == 0 ? 0 : 1;
}
