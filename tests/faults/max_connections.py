#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""A flood of 300 connections against --max-connections 100: the server never
holds more than the limit plus a small constant (counted as sockets in
/proc/PID/fd), the connections past it get `error: server full` and are closed,
and the admitted clients keep working."""

import select
import threading
import time

from faults import (check, check_clean_exit, connect, raise_fd_limit, recv_until, run, settled_fd_count,
                    socket_count, start_server)

LIMIT = 100
FLOOD = 300
SLACK = 3  # the listener, and a rejected connection between accept and close


def watch_sockets(pid, stop_event, result):
    peak = 0
    while not stop_event.is_set():
        try:
            peak = max(peak, socket_count(pid))
        except FileNotFoundError:
            break
        time.sleep(0.001)
    result["peak"] = peak


def test_flood_past_the_limit():
    raise_fd_limit(FLOOD * 2 + 256)
    server, port, _, err = start_server("tcp_server", "--mode", "echo", "--max-connections", LIMIT)
    try:
        baseline = settled_fd_count(server.pid, counter=socket_count)  # the listening socket(s)
        watched, done = {}, threading.Event()
        watcher = threading.Thread(target=watch_sockets, args=(server.pid, done, watched))
        watcher.start()
        clients = [connect(port) for _ in range(FLOOD)]

        # Rejected connections hear why at once; admitted ones hear nothing yet.
        rejected = []
        pending = list(clients)
        while pending:
            readable, _, _ = select.select(pending, [], [], 1.0)
            if not readable:
                break
            for sock in readable:
                pending.remove(sock)
                rejected.append(sock)
        admitted = pending

        full = sum(1 for sock in rejected if recv_until(sock, b"\n") == b"error: server full\n")
        check(full == len(rejected), f"{full} of {len(rejected)} refused connections got 'error: server full'")
        check(len(admitted) == LIMIT, f"{len(admitted)} connections admitted (limit {LIMIT})")
        ended = sum(1 for sock in rejected if sock.recv(1) == b"")
        check(ended == len(rejected), f"{ended} refused connections closed by the server")

        echoed = 0
        for i, sock in enumerate(admitted):
            payload = f"admitted client {i}\n".encode()
            sock.sendall(payload)
            echoed += recv_until(sock, b"\n") == payload
        check(echoed == len(admitted), f"all {echoed} admitted clients are still served")

        done.set()
        watcher.join(5)
        held = watched["peak"] - baseline
        check(held <= LIMIT + SLACK, f"the server held at most {held} connections (limit {LIMIT} + {SLACK})")
        for sock in clients:
            sock.close()
        check(server.poll() is None, "the server keeps running")
    finally:
        check_clean_exit(server, err)


run(test_flood_past_the_limit)
