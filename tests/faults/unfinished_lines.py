#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""The memory bound of unfinished lines: each connection holds at most
max-line + 2 bytes of a line still waiting for its LF, plus one 16 KiB read,
so the worst case is about max-line x max-connections. 990 connections each
send 64 KiB without a line end: the server's resident memory grows by no
more than that bound, and each line, once finished, comes back whole."""

from faults import check, connect, memory_kb, raise_fd_limit, recv_until, run, sanitizer, settled_fd_count, start_server, stop

CONNECTIONS = 990
MAX_LINE = 65536
READ = 16 * 1024


def test_unfinished_lines():
    raise_fd_limit(CONNECTIONS + 256)
    server, port, _, err = start_server("tcp_server", "--mode", "echo", "--max-line", str(MAX_LINE),
                                        "--max-connections", str(CONNECTIONS + 10))
    clients = []
    try:
        before = memory_kb(server.pid, "VmRSS")
        for _ in range(CONNECTIONS):
            sock = connect(port)
            sock.sendall(b"z" * MAX_LINE)
            clients.append(sock)
        settled_fd_count(server.pid)
        held = memory_kb(server.pid, "VmHWM") - before
        bound = CONNECTIONS * (MAX_LINE + 2 + READ) // 1024
        print(f"resident memory: {before} KiB with no client, +{held} KiB with {CONNECTIONS} unfinished "
              f"{MAX_LINE}-byte lines (bound {bound} KiB)")
        tool = sanitizer("tcp_server")
        if tool:
            print(f"({tool}: its shadow memory says nothing of the server's own; the bound is not judged)")
        else:
            check(held <= bound, f"growth {held} KiB within the bound of {bound} KiB")
        whole = 0
        for sock in clients:
            sock.sendall(b"\n")
            sock.settimeout(30)
            if recv_until(sock, b"\n") == b"z" * MAX_LINE + b"\n":
                whole += 1
        check(whole == CONNECTIONS, f"{whole} of {CONNECTIONS} lines of exactly max-line come back whole once finished")
    finally:
        for sock in clients:
            sock.close()
        stop(server)


run(test_unfinished_lines)
