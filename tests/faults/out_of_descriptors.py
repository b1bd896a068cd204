#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""tcp_server out of descriptors (`ulimit -n 64`, 200 clients connecting):
it keeps serving the clients it has, turns the others away with `error:
server full` instead of leaving them waiting, and says so on stderr once
when it starts (what it means, what to do) and once when it is over (how
many were turned away), not at every try; once clients close, it serves
new ones again."""

import resource
import socket
import sys
import time

from faults import check, connect, echo_works, harness, recv_until, run, sanitizer, start_server, stop, wait_until

LIMIT = 64
CLIENTS = 200


def low_limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))


def test_out_of_descriptors():
    # The asan build also has UndefinedBehaviorSanitizer, whose check of a
    # virtual call's type asks through a pipe whether the memory is readable:
    # out of descriptors the pipe fails, and it reports every virtual call it
    # has not seen before as a wrong type and stops the server. The runtime
    # needs descriptors of its own, so this condition cannot be tested there.
    if sanitizer("tcp_server") == "AddressSanitizer":
        print("skipped: the sanitizer runtime needs descriptors of its own (a pipe for UBSan's vptr check)")
        sys.exit(77)
    server, port, _, err = start_server("tcp_server", "--mode", "echo", preexec_fn=low_limit)
    clients = []
    try:
        for _ in range(CLIENTS):
            sock = connect(port)
            clients.append(sock)
        served, turned_away = [], []
        for sock in clients:
            sock.sendall(b"ping\n")
            sock.settimeout(5)
            answer = recv_until(sock, b"\n")
            (served if answer == b"ping\n" else turned_away).append((sock, answer))
        check(len(served) > 0 and len(served) + len(turned_away) == CLIENTS,
              f"{len(served)} clients served, {len(turned_away)} turned away, of {CLIENTS}")
        check(all(answer == b"error: server full\n" for _, answer in turned_away),
              "each client turned away is told 'error: server full'")
        time.sleep(1.0)  # long enough for ten retries at the old pace of one every 100 ms
        said = harness.said(err.data())
        starts = said.count("accept failed: too many open files")
        check(starts == 1, f"the shortage is reported once, not at every try ({starts} times)")
        check("ulimit -n" in said and "--max-connections" in said, "the report says what to do")
        for sock, _ in served:
            sock.close()
        for sock, _ in turned_away:
            sock.close()
        check(wait_until(lambda: echo_works(port), 10, interval=0.2), "once clients close, a new one is served")
        # The console is written on a thread of its own: the line may come a moment after the echo.
        def end_reports():
            return [line for line in harness.said(err.data()).splitlines()
                    if line.startswith("accepting connections again")]
        wait_until(end_reports, 10, interval=0.05)
        over = end_reports()
        check(len(over) == 1 and f"; {len(turned_away)} turned away meanwhile" in over[0],
              f"the end of the shortage is reported once, with the count: {over}")
    finally:
        for sock in clients:
            sock.close()
        code = stop(server)
    check(code == 0, f"exit 0 on SIGTERM (exit {code})")


run(test_out_of_descriptors)
