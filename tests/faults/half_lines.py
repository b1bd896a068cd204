#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""1,000 clients connect to tcp_server, each send half a line, and are killed
(their process gets SIGKILL, so the kernel closes the sockets mid-line). The
server's open descriptors return to their baseline and it keeps serving: no
descriptor, no half-read line is left behind. In echo mode within 2 s. In
chat mode a client's close cannot be told from a half-close (the client
stops sending and may still listen, which chat honours until the idle
timeout, the operator's q or shutdown): there within 2 s after the idle
timeout, here 1 s."""

import signal
import subprocess
import sys
import textwrap

from faults import (check, check_clean_exit, connect, echo_works, fd_count, raise_fd_limit, run,
                    settled_fd_count, start_server, wait_until)

CLIENTS = 1000

# The doomed clients live in their own process, so that killing it is a real
# crash of the peer, not a polite close from this script.
CLIENT_PROCESS = textwrap.dedent("""
    import socket, sys, time
    port, count = int(sys.argv[1]), int(sys.argv[2])
    held = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"half a li")
        held.append(s)
    print("ready", flush=True)
    time.sleep(600)
""")


def served(mode, port, out, text):
    """A fresh client's line is echoed (echo mode) or printed (chat mode), and
    its connection is gone from the server again afterwards."""
    if mode == "echo":
        return echo_works(port, text + b"\n")
    with connect(port) as sock:
        sock.sendall(text + b"\n")
        return wait_until(lambda: b"> " + text + b"\n" in out.data(), 5)


IDLE_TIMEOUT = 1  # chat: how long a closed client may be taken for one still listening


def kill_clients_mid_line(mode):
    raise_fd_limit(CLIENTS * 2 + 256)
    idle = ("--idle-timeout", IDLE_TIMEOUT) if mode == "chat" else ()
    gone_within = 2 + (IDLE_TIMEOUT if mode == "chat" else 0)
    server, port, out, err = start_server("tcp_server", "--mode", mode, "--max-connections", CLIENTS * 2, *idle)
    try:
        baseline = settled_fd_count(server.pid)  # listening, no connection yet
        check(served(mode, port, out, b"before the flood"), f"{mode}: serves before the flood")
        check(wait_until(lambda: fd_count(server.pid) <= baseline, gone_within),
              f"{mode}: a closed connection gives its descriptor back within {gone_within} s")
        clients = subprocess.Popen([sys.executable, "-c", CLIENT_PROCESS, str(port), str(CLIENTS)],
                                   stdout=subprocess.PIPE)
        ready = clients.stdout.readline().strip() == b"ready"
        check(ready, f"{mode}: {CLIENTS} clients connected and sent half a line")
        held = wait_until(lambda: fd_count(server.pid) >= baseline + CLIENTS, 10)
        peak = fd_count(server.pid)
        check(held, f"{mode}: the server holds all {CLIENTS} connections (descriptors {baseline} -> {peak})")
        clients.send_signal(signal.SIGKILL)
        clients.wait()
        back = wait_until(lambda: fd_count(server.pid) <= baseline, gone_within)
        check(back, f"{mode}: descriptors back to baseline {baseline} within {gone_within} s "
                    f"(now {fd_count(server.pid)})")
        check(server.poll() is None, f"{mode}: the server is still running")
        check(served(mode, port, out, b"after the flood"), f"{mode}: a new client is served after the flood")
    finally:
        check_clean_exit(server, err)


def test_echo_mode():
    kill_clients_mid_line("echo")


def test_chat_mode():
    kill_clients_mid_line("chat")


run(test_echo_mode, test_chat_mode)
