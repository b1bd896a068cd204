"""udp_server and udp_client against OpenBSD/GNU netcat in UDP mode (`nc -u`):
nc as a client of our server, and as a silent server for our client."""

import socket
import subprocess
import sys
import time

import harness
from harness import check


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
    out = nc_client(port, b"hello from nc\n")
    check(out == b"hello from nc\n", f"nc -u gets its datagram back: {out!r}")
    harness.stop(server)
    printed = server.stdout.read().decode()
    check(printed.startswith("(127.0.0.1 ") and printed.endswith(") said: hello from nc\n"),
          f"the server prints it in the seed's format: {printed!r}")


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
    time.sleep(0.3)
    harness.stop(nc)
    received = nc.stdout.read()
    check(received == b"onetwo", f"nc receives each line as a datagram, without its newline: {received!r}")


def test_client_retries_against_silent_nc():
    nc, port = silent_nc_server()
    result = subprocess.run(harness.program("udp_client", "127.0.0.1", port, "--timeout", "0.2", "--retries", "2"),
                            input=b"ping\n", capture_output=True, timeout=30)
    check(result.returncode == 1, f"unanswered: exit 1 ({result.returncode})")
    check(result.stderr.decode() == f"no reply from 127.0.0.1:{port} after 3 tries\n", f"{result.stderr!r}")
    time.sleep(0.2)
    harness.stop(nc)
    received = nc.stdout.read()
    check(received == b"pingpingping", f"nc saw the first try and exactly two resends: {received!r}")


if __name__ == "__main__":
    if harness.emulator():
        print("skipped: nc is a Linux peer; the Windows build is tested by udp_pair")
        sys.exit(harness.SKIP)
    harness.need("nc")
    harness.run(test_nc_client_gets_echo, test_client_no_wait_to_nc, test_client_retries_against_silent_nc)
