#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""10,000 concurrent connections to tcp_server in echo mode: all are open at
the same time, each sends its own random lines, and every byte that comes
back is verified against what that connection sent."""

import errno
import os
import random
import selectors
import socket
import sys
import time

from faults import (check, check_clean_exit, raise_fd_limit, run, settled_fd_count, socket_count,
                    start_server, thread_args, wait_until)

CONNECTIONS = 10_000
LINES_EACH = 4
BATCH = 500  # connections opened at a time, below the listen backlog


def random_line(rng):
    """Random bytes and a LF; never the quit word, which would end the session."""
    alphabet = bytes(b for b in range(256) if b != ord("\n"))
    while True:
        text = bytes(rng.choices(alphabet, k=rng.randint(0, 200)))
        if text.rstrip(b"\r") not in (b"q", b"Q"):
            return text + b"\n"


def random_lines(rng):
    return b"".join(random_line(rng) for _ in range(LINES_EACH))


def open_connections(port):
    """Non-blocking connects in batches; returns the connected sockets."""
    sockets = []
    selector = selectors.DefaultSelector()
    while len(sockets) < CONNECTIONS:
        batch = []
        for _ in range(min(BATCH, CONNECTIONS - len(sockets))):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            code = sock.connect_ex(("127.0.0.1", port))
            if code not in (0, errno.EINPROGRESS):
                raise OSError(code, os.strerror(code))
            selector.register(sock, selectors.EVENT_WRITE)
            batch.append(sock)
        waiting = len(batch)
        deadline = time.monotonic() + 30
        while waiting and time.monotonic() < deadline:
            for key, _ in selector.select(1):
                selector.unregister(key.fileobj)
                code = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code:
                    raise OSError(code, os.strerror(code))
                waiting -= 1
        if waiting:
            raise TimeoutError(f"{waiting} connects did not complete")
        sockets.extend(batch)
    return sockets


def test_ten_thousand_connections():
    limit = raise_fd_limit(CONNECTIONS + 1024)
    if limit < CONNECTIONS + 100:
        print(f"skipped: the descriptor limit is {limit}, {CONNECTIONS + 100} needed (raise the hard limit)")
        sys.exit(77)
    server, port, _, err = start_server("tcp_server", "--mode", "echo", "--max-connections", CONNECTIONS + 100,
                                        *thread_args())
    sockets = []
    try:
        baseline = settled_fd_count(server.pid, counter=socket_count)
        sockets = open_connections(port)
        rng = random.Random(10_000)
        expected = {sock: random_lines(rng) for sock in sockets}
        wait_until(lambda: socket_count(server.pid) - baseline >= CONNECTIONS, 10, interval=0.1)
        held = socket_count(server.pid) - baseline
        check(held >= CONNECTIONS, f"the server holds {held} connections at once")

        # Every connection writes its lines and reads its echo, all interleaved.
        to_send = dict(expected)
        received = {sock: bytearray() for sock in sockets}
        selector = selectors.DefaultSelector()
        for sock in sockets:
            selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
        unfinished = len(sockets)
        deadline = time.monotonic() + 120
        while unfinished and time.monotonic() < deadline:
            for key, events in selector.select(1):
                sock = key.fileobj
                if events & selectors.EVENT_WRITE and to_send[sock]:
                    sent = sock.send(to_send[sock])
                    to_send[sock] = to_send[sock][sent:]
                    if not to_send[sock]:
                        selector.modify(sock, selectors.EVENT_READ)
                if events & selectors.EVENT_READ:
                    chunk = sock.recv(65536)
                    received[sock] += chunk
                    if not chunk or len(received[sock]) >= len(expected[sock]):
                        selector.unregister(sock)
                        unfinished -= 1
        total = sum(len(v) for v in expected.values())
        verified = sum(len(expected[s]) for s in sockets if bytes(received[s]) == expected[s])
        wrong = sum(1 for s in sockets if bytes(received[s]) != expected[s])
        for number, sock in enumerate(sockets):
            got, want = bytes(received[sock]), expected[sock]
            if got != want:
                at = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
                print(f"connection {number}: {len(got)} of {len(want)} bytes back, first difference at {at}: "
                      f"got {got[at:at + 40]!r}, sent {want[at:at + 40]!r}")
        check(wrong == 0, f"{verified} of {total} bytes echoed exactly over {CONNECTIONS} connections "
                          f"({wrong} connections wrong or unfinished)")
        check(server.poll() is None, "the server keeps running")
    finally:
        for sock in sockets:
            sock.close()
        check_clean_exit(server, err, timeout=10)


run(test_ten_thousand_connections)
