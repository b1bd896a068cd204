# SPDX-License-Identifier: BSL-1.0
"""udp_server and udp_client against socat: socat as a client of our server,
and as an echo server (UDP-RECVFROM ... PIPE) for our client.
UDP may drop datagrams: see udp_checks.py for what each check may expect."""

import socket
import subprocess
import time

import harness
from harness import check
from udp_checks import TRIES


def test_socat_client_gets_echo():
    server, port = harness.start_server("udp_server")
    # socat sends once: when the datagram or its echo is lost, it runs again.
    for runs in range(1, TRIES + 1):
        result = subprocess.run(["socat", "-t", "1", "-", f"UDP4:127.0.0.1:{port}"], input=b"via socat\n",
                                capture_output=True, timeout=30)
        if result.stdout == b"via socat\n":
            break
    check(result.stdout == b"via socat\n", f"socat gets its datagram back: {result.stdout!r}")
    harness.stop(server)
    lines = server.stdout.read().decode().splitlines()
    check(1 <= len(lines) <= runs and all(line.endswith(") said: via socat") for line in lines),
          f"the server prints it: {lines!r}")


def test_client_against_socat_echo():
    port = harness.free_port(socket.SOCK_DGRAM)
    echo = subprocess.Popen(["socat", f"UDP4-RECVFROM:{port},bind=127.0.0.1,fork", "PIPE"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        lines = b"".join(b"line %d\n" % i for i in range(20))
        result = subprocess.run(harness.program("udp_client", "127.0.0.1", port), input=lines,
                                capture_output=True, timeout=60)
        harness.check_printed_back(result, lines,
                                   f"every line answered by socat: exit 0 ({result.returncode}, {result.stderr!r})",
                                   f"every echo printed once, in order: {result.stdout[:60]!r}...")
    finally:
        harness.stop(echo)


if __name__ == "__main__":
    harness.skip_under_emulator("socat is a Linux peer; the Windows build is tested by udp_pair")
    harness.need("socat")
    harness.run(test_socat_client_gets_echo, test_client_against_socat_echo)
