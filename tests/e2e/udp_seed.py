# SPDX-License-Identifier: BSL-1.0
"""udp_server and udp_client with the seed's own UDP programs (Python 3 copies
in seed_udp_server.py and seed_udp_client.py): our server with the seed's
client, our client (--no-wait and default) with the seed's server, which
never replies. UDP may drop datagrams: see udp_checks.py for what each check
may expect."""

import os
import socket
import subprocess
import sys

import harness
from harness import check
from udp_checks import exchange, is_subsequence, read_until

HERE = os.path.dirname(os.path.abspath(__file__))


def seed(name, *args):
    return [sys.executable, os.path.join(HERE, name)] + [str(a) for a in args]


def start_seed_server():
    proc = subprocess.Popen(seed("seed_udp_server.py"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline().decode()
    return proc, int(first.rsplit(" ", 1)[1])


def test_seed_client_with_our_server():
    server, port = harness.start_server("udp_server")
    subprocess.run(seed("seed_udp_client.py", "127.0.0.1", port), input=b"hello\nworld\nq\nnot sent\n",
                   timeout=30, check=True)
    # The seed's client sends without waiting, so UDP may drop either line.
    # An exchange after them shows the server has handled all that came before.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        reply, _ = exchange(peer, b"after the seed", ("127.0.0.1", port))
    code = harness.stop(server)
    said = [line.split(" said: ", 1)[1] for line in server.stdout.read().decode().splitlines()]
    said = [text for text in said if text != "after the seed"]
    check(reply is not None and said and is_subsequence(said, ["hello", "world"]),
          f"our server prints what the seed's client sent, up to 'q': {said}")
    if not harness.emulator():  # under Wine the signal ends the emulator itself
        check(code == 0, f"and stops with exit 0 ({code})")


def test_our_client_no_wait_with_seed_server():
    server, port = start_seed_server()
    result = subprocess.run(harness.program("udp_client", "127.0.0.1", port, "--no-wait"),
                            input=b"fire\nforget\nQ\n", capture_output=True, timeout=30)
    check(result.returncode == 0 and result.stdout == b"" and harness.said(result.stderr) == "",
          f"--no-wait: exit 0, silent ({result.returncode}, {result.stderr!r})")
    printed = read_until(server.stdout, lambda data: data.count(b"\n") == 2, timeout=5)
    harness.stop(server)
    said = [line.split(" said: ", 1)[1] for line in printed.decode().splitlines()]
    check(said and is_subsequence(said, ["fire", "forget"]),
          f"the seed's server prints the lines (UDP may drop one), in order: {said}")


def test_our_client_waiting_on_seed_server():
    server, port = start_seed_server()
    result = subprocess.run(harness.program("udp_client", "127.0.0.1", port, "--timeout", "0.2"),
                            input=b"hello?\n", capture_output=True, timeout=30)
    check(result.returncode == 1, f"no reply from the seed's server: exit 1 ({result.returncode})")
    check(harness.said(result.stderr) == f"no reply from 127.0.0.1:{port} after 3 tries\n", f"{result.stderr!r}")
    printed = read_until(server.stdout, lambda data: data.count(b"\n") == 3, timeout=5)
    harness.stop(server)
    said = [line.split(" said: ", 1)[1] for line in printed.decode().splitlines()]
    check(said in (["hello?"], ["hello?"] * 2, ["hello?"] * 3),
          f"the seed's server saw each of the three tries that arrived: {said}")


if __name__ == "__main__":
    harness.run(test_seed_client_with_our_server, test_our_client_no_wait_with_seed_server,
                test_our_client_waiting_on_seed_server)
