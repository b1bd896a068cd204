# SPDX-License-Identifier: BSL-1.0
"""udp_server and udp_client against OpenBSD/GNU netcat in UDP mode (`nc -u`):
nc as a client of our server, and as a silent server for our client.
UDP may drop datagrams: see udp_checks.py for what each check may expect."""

import socket
import subprocess
import time

import harness
from harness import check
from udp_checks import TRIES, read_until


def nc_client(port, payload, linger=1.0):
    """Sends `payload` with nc -u, keeps stdin open for `linger` seconds so the
    echo can come back, and returns what nc printed."""
    proc = subprocess.Popen(["nc", "-u", "-w", "1", "127.0.0.1", str(port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    proc.stdin.write(payload)
    proc.stdin.flush()
    time.sleep(linger)
    proc.stdin.close()
    try:
        out = proc.stdout.read()
        proc.wait(10)
    finally:
        harness.stop(proc)
    return out


def test_nc_client_gets_echo():
    server, port = harness.start_server("udp_server")
    # nc sends once: when the datagram or its echo is lost, it runs again.
    for runs in range(1, TRIES + 1):
        out = nc_client(port, b"hello from nc\n")
        if out == b"hello from nc\n":
            break
    check(out == b"hello from nc\n", f"nc -u gets its datagram back: {out!r}")
    harness.stop(server)
    lines = server.stdout.read().decode().splitlines()
    check(1 <= len(lines) <= runs and
          all(line.startswith("(127.0.0.1 ") and line.endswith(") said: hello from nc") for line in lines),
          f"the server prints it in the seed's format: {lines!r}")


def silent_nc_server():
    port = harness.free_port(socket.SOCK_DGRAM)
    proc = subprocess.Popen(["nc", "-u", "-l", "127.0.0.1", str(port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    time.sleep(0.3)  # nc prints nothing when it is ready
    return proc, port


def test_client_no_wait_to_nc():
    nc, port = silent_nc_server()
    result = subprocess.run(harness.program("udp_client", "127.0.0.1", port, "--no-wait"),
                            input=b"one\ntwo\n", capture_output=True, timeout=30)
    check(result.returncode == 0, f"--no-wait exits 0 ({result.returncode})")
    received = read_until(nc.stdout, lambda data: data == b"onetwo", timeout=5)
    harness.stop(nc)
    # Sent without waiting: UDP may drop either.
    check(received in (b"onetwo", b"one", b"two"),
          f"nc receives each line as a datagram, without its newline: {received!r}")


def test_client_retries_against_silent_nc():
    nc, port = silent_nc_server()
    result = subprocess.run(harness.program("udp_client", "127.0.0.1", port, "--timeout", "0.2", "--retries", "2"),
                            input=b"ping\n", capture_output=True, timeout=30)
    check(result.returncode == 1, f"unanswered: exit 1 ({result.returncode})")
    check(result.stderr.decode() == f"no reply from 127.0.0.1:{port} after 3 tries\n", f"{result.stderr!r}")
    received = read_until(nc.stdout, lambda data: data == b"ping" * 3, timeout=5)
    harness.stop(nc)
    # Never answered, so nothing was resent for a loss: each of the three
    # tries that arrived, and no more.
    check(received in (b"ping", b"ping" * 2, b"ping" * 3), f"nc saw the tries that arrived: {received!r}")


if __name__ == "__main__":
    harness.skip_under_emulator("nc is a Linux peer; the Windows build is tested by udp_pair")
    harness.need("nc")
    harness.run(test_nc_client_gets_echo, test_client_no_wait_to_nc, test_client_retries_against_silent_nc)
