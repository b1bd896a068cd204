#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""tcp_client against real servers: OpenBSD netcat listening (`nc -l`)
and a socat echo. Native builds only: under an emulator the Linux peers are
left to the native run."""

import re
import subprocess
import threading
import time

import harness
from harness import check

SOCAT_LISTENING = re.compile(rb"listening on \S+ 127\.0\.0\.1:(\d+)")


def run_client_until_connected(port, stdin_data, attempts=100):
    """The peer may not listen yet: a refused client is run again."""
    for _ in range(attempts):
        result = subprocess.run(harness.program("tcp_client", "127.0.0.1", port), input=stdin_data,
                                capture_output=True, timeout=60)
        if result.returncode != 1 or b"refused" not in result.stderr:
            return result
        time.sleep(0.1)
    raise RuntimeError(f"nothing listened on port {port}")


def wait_until_listening(port, timeout=10):
    """Waits for a listener on 127.0.0.1:port without connecting to it
    (netcat accepts a single connection): Linux lists it in /proc/net/tcp."""
    wanted = "0100007F:%04X" % port
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/net/tcp") as table:
            for row in table.readlines()[1:]:
                fields = row.split()
                if fields[1] == wanted and fields[3] == "0A":  # 0A: LISTEN
                    return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port}")


def test_netcat_listener():
    port = harness.free_port()
    nc = subprocess.Popen(["nc", "-l", "127.0.0.1", str(port)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    client = None
    try:
        wait_until_listening(port)
        client = harness.start("tcp_client", "127.0.0.1", port)
        for proc in (client, nc):  # a broken client must not hang the blocking reads below
            watchdog = threading.Timer(60, proc.kill)
            watchdog.daemon = True
            watchdog.start()
        nc.stdin.write(b"from netcat\n")
        nc.stdin.flush()
        got = client.stdout.readline()
        check(got == b"from netcat\n", f"netcat's line printed exactly while stdin is open (got {got!r})")
        lines = b"".join(b"line %d to netcat\n" % i for i in range(1000))
        client.stdin.write(lines)
        client.stdin.close()  # tcp_client half-closes; netcat then ends the connection
        heard = nc.stdout.read()
        check(heard == lines, f"netcat heard every line ({len(heard)} of {len(lines)} bytes)")
        code = client.wait(30)
        err = client.stderr.read()
        check(code == 0, f"exit 0 once netcat closes (got {code}, stderr {err!r})")
        check(client.stdout.read() == b"", "nothing else on stdout")
    finally:
        if client is not None:
            harness.stop(client)
        harness.stop(nc)


def start_socat_echo():
    socat = subprocess.Popen(["socat", "-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1", "PIPE"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(20):
        found = SOCAT_LISTENING.search(socat.stderr.readline())
        if found:
            return socat, int(found.group(1))
    harness.stop(socat)
    raise RuntimeError("socat did not say where it listens")


def test_socat_echo():
    socat, port = start_socat_echo()
    try:
        result = run_client_until_connected(port, b"a\nb\n")
        harness.check_printed_back(result, b"a\nb\n", f"exit 0 (got {result.returncode}, stderr {result.stderr!r})",
                                   f"stdout is exactly a, b (got {result.stdout!r})")
    finally:
        harness.stop(socat)


def test_socat_echo_both_directions_at_once():
    # 4 MB, far more than the socket buffers hold: a client that stopped
    # reading while it writes (or the reverse) would stall here.
    lines = b"".join(b"%06d %s\n" % (i, b"x" * 90) for i in range(40000))
    socat, port = start_socat_echo()
    try:
        result = run_client_until_connected(port, lines)
        harness.check_printed_back(result, lines, f"exit 0 (got {result.returncode}, stderr {result.stderr!r})",
                                   f"all {len(lines)} bytes came back in order (got {len(result.stdout)})")
    finally:
        harness.stop(socat)


if __name__ == "__main__":
    harness.skip_under_emulator("Linux peers; the native build runs this test")
    harness.need("nc", "socat")
    harness.run(test_netcat_listener, test_socat_echo, test_socat_echo_both_directions_at_once)
