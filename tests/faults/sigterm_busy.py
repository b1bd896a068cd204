#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""SIGTERM while 200 connections are busy (half of them streaming lines and
reading the echoes, half sending without ever reading, so the server's writes
to them are stuck): tcp_server exits 0 within one second, nothing crashes."""

import selectors
import signal
import time

from faults import check, connect, raise_fd_limit, run, start_server, stop, thread_args

CONNECTIONS = 200
GRACE = 1.0  # coronet::shutdown_grace
SLACK = 0.3  # this script noticing the exit
PER_CONNECTION = 256 * 1024


def test_sigterm_under_load():
    raise_fd_limit(CONNECTIONS * 2 + 256)
    server, port, _, err = start_server("tcp_server", "--mode", "echo", *thread_args())
    clients = []
    try:
        clients = [connect(port) for _ in range(CONNECTIONS)]
        for sock in clients:
            sock.setblocking(False)
        readers = clients[: CONNECTIONS // 2]
        chunk = b"busy busy busy busy busy busy busy busy busy busy\n" * 100
        selector = selectors.DefaultSelector()
        for sock in clients:
            selector.register(sock, selectors.EVENT_WRITE | (selectors.EVENT_READ if sock in readers else 0))
        # Busy for at least a second and until echoes flow; each connection
        # sends at most PER_CONNECTION bytes so the kernel buffers stay modest.
        sent = received = 0
        sent_on = dict.fromkeys(clients, 0)
        started = time.monotonic()
        while time.monotonic() - started < 10 and (time.monotonic() - started < 1 or received == 0):
            for key, events in selector.select(0.05):
                sock = key.fileobj
                try:
                    if events & selectors.EVENT_READ:
                        received += len(sock.recv(65536))
                    if events & selectors.EVENT_WRITE and sent_on[sock] < PER_CONNECTION:
                        n = sock.send(chunk)
                        sent_on[sock] += n
                        sent += n
                except (BlockingIOError, ConnectionError):
                    pass
        check(sent > 0 and received > 0, f"busy: {sent} bytes sent, {received} echoed before the signal")
        server.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        try:
            code = server.wait(GRACE + SLACK)
        except Exception:
            code = None
        took = time.monotonic() - signalled
        check(code == 0, f"exit code {code} after SIGTERM under load")
        check(code is not None and took <= GRACE + SLACK, f"exited {took:.2f} s after SIGTERM (promise: {GRACE} s)")
        stderr = err.finish()
        check(b"Sanitizer" not in stderr and b"terminate called" not in stderr,
              f"nothing crashed: {stderr[-300:]!r}")
    finally:
        stop(server)
        for sock in clients:
            sock.close()


run(test_sigterm_under_load)
