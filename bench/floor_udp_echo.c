/* SPDX-License-Identifier: BSL-1.0 */
/* floor_udp_echo: the UDP floor of the benchmark: a blocking recvfrom/sendto
 * loop that sends every datagram back to where it came from, and nothing else.
 *
 *   build/release/bin/floor_udp_echo --port 0    (prints "listening on 127.0.0.1:PORT")
 *
 * Loopback only. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
  int port = 5000;
  for (int i = 1; i < argc; ++i) {
    if ((strcmp(argv[i], "--port") == 0 || strcmp(argv[i], "-p") == 0) && i + 1 < argc) {
      port = atoi(argv[++i]);
    } else {
      fprintf(stderr, "usage: %s [--port PORT]  (0 picks a free port)\n", argv[0]);
      return 2;
    }
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(fd, (struct sockaddr*)&address, sizeof address) < 0 ||
      getsockname(fd, (struct sockaddr*)&address, &length) < 0) {
    perror("floor_udp_echo");
    return 1;
  }
  fprintf(stderr, "listening on 127.0.0.1:%d\n", ntohs(address.sin_port));

  static char datagram[65536];
  for (;;) {
    struct sockaddr_storage peer;
    socklen_t peer_length = sizeof peer;
    ssize_t n = recvfrom(fd, datagram, sizeof datagram, 0, (struct sockaddr*)&peer, &peer_length);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("recvfrom");
      return 1;
    }
    /* A peer that went away (ICMP unreachable) is not the server's problem. */
    sendto(fd, datagram, (size_t)n, 0, (struct sockaddr*)&peer, peer_length);
  }
}
