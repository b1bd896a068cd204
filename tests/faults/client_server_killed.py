#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""The server dies (SIGKILL) under a connected tcp_client whose stdin is still
open and silent: the client ends within two seconds with a clear line on
stderr, instead of waiting forever for a line to send."""

import signal
import subprocess
import time

from faults import check, harness, run, start_server, stop


def test_client_ends_when_server_dies():
    for mode in ("chat", "echo"):
        server, port, out, _ = start_server("tcp_server", "--mode", mode)
        client = harness.start("tcp_client", "127.0.0.1", port)  # stdin: a pipe left open
        try:
            if mode == "chat":  # the server prints the client's line once it is connected
                client.stdin.write(b"hello\n")
                client.stdin.flush()
                deadline = time.monotonic() + 5
                while b"hello" not in out.data() and time.monotonic() < deadline:
                    time.sleep(0.02)
                check(b"hello" in out.data(), f"{mode}: the client is connected")
            else:
                client.stdin.write(b"ping\n")
                client.stdin.flush()
                check(client.stdout.readline() == b"ping\n", f"{mode}: the client is connected")
            server.send_signal(signal.SIGKILL)
            server.wait()
            killed = time.monotonic()
            try:
                code = client.wait(2)
            except subprocess.TimeoutExpired:
                code = None
            took = time.monotonic() - killed
            check(code is not None, f"{mode}: the client ended {took:.2f} s after the server died "
                                    f"(exit {code}), stdin still open")
            stop(client)
            stderr = client.stderr.read().decode(errors="replace").strip()
            check(stderr != "", f"{mode}: it said why on stderr: {stderr!r}")
        finally:
            stop(client)
            stop(server)


run(test_client_ends_when_server_dies)
