#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Signals sent again and again while a program stops (a supervisor that
signals twice, a user pressing Ctrl-C twice) change nothing: once a program
has begun to stop, further SIGINT and SIGTERM find it already stopping, up to
its very end. Each program, 20 times over: the servers under load exit 0 and
print their last line; the clients exit 128 + the signal as an exit code,
never death by the signal."""

import signal
import socket
import subprocess
import threading
import time

from faults import check, harness, run, start_server

RUNS = 20


def storm(proc, sig, gap=0.0005, limit=10):
    """Sends `sig` every `gap` seconds until the process has ended; its exit code."""
    deadline = time.monotonic() + limit
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            break
        time.sleep(gap)
    try:
        return proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def keep_busy(port, stop, kind=socket.SOCK_STREAM):
    """Load for a server until `stop` is set: lines over TCP, datagrams over UDP."""
    try:
        with socket.socket(socket.AF_INET, kind) as sock:
            sock.settimeout(1)
            sock.connect(("127.0.0.1", port))
            while not stop.is_set():
                sock.send(b"busy busy busy busy\n" * (50 if kind == socket.SOCK_STREAM else 1))
                try:
                    sock.recv(65536)
                except OSError:
                    pass
    except OSError:
        pass  # the server has gone: that is the point


def server_runs(name, sig, *args, pause=None):
    codes, last_lines = [], 0
    for _ in range(RUNS):
        proc, port, _, err = start_server(name, *args, stdout=subprocess.DEVNULL)
        stop = threading.Event()
        kind = socket.SOCK_DGRAM if name == "udp_server" else socket.SOCK_STREAM
        loaders = [threading.Thread(target=keep_busy, args=(port, stop, kind), daemon=True) for _ in range(4)]
        for loader in loaders:
            loader.start()
        time.sleep(0.1)
        if pause is None:
            code = storm(proc, sig)
        else:  # two signals the given time apart
            proc.send_signal(sig)
            time.sleep(pause)
            if proc.poll() is None:
                proc.send_signal(sig)
            code = proc.wait(10)
        stop.set()
        codes.append(code)
        if name == "tcp_server" and err.finish().rstrip().endswith(b"server stopped"):
            last_lines += 1
    check(codes.count(0) == RUNS, f"{name} {' '.join(args)}: {codes.count(0)} of {RUNS} runs exit 0 under a "
                                  f"storm of {signal.Signals(sig).name} (codes {sorted(set(codes))})")
    if name == "tcp_server":
        check(last_lines == RUNS, f"{name}: 'server stopped' is the last line in {last_lines} of {RUNS} runs")


def test_tcp_server_sigterm_storm():
    server_runs("tcp_server", signal.SIGTERM, "--mode", "echo")


def test_tcp_server_two_sigints_threads():
    for gap_ms in (0, 3, 9):
        server_runs("tcp_server", signal.SIGINT, "--mode", "echo", "--threads", "4", pause=gap_ms / 1000)


def test_udp_server_sigterm_storm():
    server_runs("udp_server", signal.SIGTERM)


def client_runs(name, sig):
    codes = []
    for _ in range(RUNS):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM if name == "tcp_client" else socket.SOCK_DGRAM) as peer:
            peer.bind(("127.0.0.1", 0))
            if name == "tcp_client":
                peer.listen()
            port = peer.getsockname()[1]
            proc = harness.start(name, "127.0.0.1", port, stdout=subprocess.DEVNULL)
            if name == "tcp_client":
                conn, _ = peer.accept()  # connected: the conversation is on
            else:
                proc.stdin.write(b"hello\n")
                proc.stdin.flush()
                peer.settimeout(10)
                data, sender = peer.recvfrom(100)
                peer.sendto(data, sender)  # answered: the client waits for its next line
            time.sleep(0.05)
            codes.append(storm(proc, sig))
            if name == "tcp_client":
                conn.close()
            proc.stdin.close()
    wanted = 128 + sig
    check(codes.count(wanted) == RUNS, f"{name}: exit {wanted} (128 + {signal.Signals(sig).name}) in "
                                       f"{codes.count(wanted)} of {RUNS} runs (codes {sorted(set(codes))})")


def test_tcp_client_storms():
    client_runs("tcp_client", signal.SIGTERM)
    client_runs("tcp_client", signal.SIGINT)


def test_udp_client_storms():
    client_runs("udp_client", signal.SIGTERM)
    client_runs("udp_client", signal.SIGINT)


run(test_tcp_server_sigterm_storm, test_tcp_server_two_sigints_threads, test_udp_server_sigterm_storm,
    test_tcp_client_storms, test_udp_client_storms)
