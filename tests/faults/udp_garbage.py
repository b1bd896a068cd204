#!/usr/bin/env python3
"""udp_server fed thousands of random datagrams (0 to 9,000 bytes of random
binary), senders that vanish before the reply, and a burst it cannot keep up
with, keeps answering each datagram it receives with exactly its bytes, and
prints exactly one terminal-safe line for each."""

import random
import socket
import tempfile
import time

from faults import check, check_clean_exit, run, start_server

DATAGRAMS = 3000
VANISHING = 200
BURST = 2000  # sent without waiting: loopback may drop some, the server must not care
CONTROL = set(range(0x20)) - {ord("\n")} | {0x7f}


def test_random_datagrams():
    rng = random.Random(9000)
    with tempfile.TemporaryFile() as stdout:
        server, port, _, err = start_server("udp_server", stdout=stdout)
        try:
            # Senders that disappear: the replies meet closed ports (ICMP unreachable).
            for _ in range(VANISHING):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as gone:
                    gone.sendto(rng.randbytes(rng.randint(0, 64)), ("127.0.0.1", port))

            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flood:
                flood.bind(("127.0.0.1", 0))
                flood_port = flood.getsockname()[1]
                for _ in range(BURST):
                    flood.sendto(rng.randbytes(rng.randint(0, 9000)), ("127.0.0.1", port))
            time.sleep(0.5)  # the burst is drained before the replies are counted

            answered = wrong = 0
            sent_bytes = 0
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.bind(("127.0.0.1", 0))
                sender_port = sock.getsockname()[1]
                sock.settimeout(2)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                for i in range(DATAGRAMS):
                    payload = rng.randbytes(rng.randint(0, 9000))
                    sock.sendto(payload, ("127.0.0.1", port))
                    sent_bytes += len(payload)
                    try:
                        reply, _ = sock.recvfrom(65536)
                    except TimeoutError:
                        wrong += 1
                        continue
                    if reply == payload:
                        answered += 1
                    else:
                        wrong += 1
            check(wrong == 0 and answered == DATAGRAMS,
                  f"{answered} of {DATAGRAMS} random datagrams ({sent_bytes} bytes) echoed exactly")
            check(server.poll() is None, "the server keeps running")
        finally:
            check_clean_exit(server, err)
        stdout.seek(0)
        printed = stdout.read()
    lines = printed.split(b"\n")[:-1]
    from_sender = sum(1 for line in lines if line.startswith(f"(127.0.0.1 {sender_port}) said: ".encode()))
    from_flood = sum(1 for line in lines if line.startswith(f"(127.0.0.1 {flood_port}) said: ".encode()))
    from_vanished = len(lines) - from_sender - from_flood
    check(from_sender == DATAGRAMS, f"{from_sender} lines printed for the {DATAGRAMS} answered datagrams")
    check(from_vanished == VANISHING, f"{from_vanished} lines printed for the {VANISHING} vanished senders")
    check(0 < from_flood <= BURST, f"{from_flood} of {BURST} burst datagrams arrived and were printed "
                                   "(UDP may drop the rest)")
    check(all(line.startswith(b"(127.0.0.1 ") and b") said: " in line for line in lines),
          "every line is in the seed's format")
    check(not CONTROL.intersection(printed), "no control byte reached stdout")


run(test_random_datagrams)
