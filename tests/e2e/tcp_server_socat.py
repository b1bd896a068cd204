#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""tcp_server against socat clients: a room conversation and an echo."""

import subprocess
import threading
import time

import harness
from harness import check

harness.need("socat")
harness.skip_under_emulator("socat is checked against the native build")


def socat(port, *options):
    return subprocess.Popen(["socat", *options, "-", f"TCP:127.0.0.1:{port}"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def read_lines(proc, sink):
    for line in iter(proc.stdout.readline, b""):
        sink.append(line)


def wait_for(sink, predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(predicate(line) for line in sink):
            return True
        time.sleep(0.02)
    return False


def test_room_with_socat():
    server, port = harness.start_server("tcp_server", "--mode", "room", "--verbose")
    first, second = socat(port), None
    heard_first, heard_second = [], []
    threading.Thread(target=read_lines, args=(first, heard_first), daemon=True).start()
    try:
        server.stderr.readline()  # "... connected": the first is in the room
        second = socat(port, "-t", "3")  # after its input ends, it listens while lines come
        threading.Thread(target=read_lines, args=(second, heard_second), daemon=True).start()
        check(wait_for(heard_first, lambda l: l.startswith(b"* ") and l.endswith(b" joined\n")),
              "the first socat hears the second join")
        second.stdin.write(b"hello from socat\n")
        second.stdin.flush()
        check(wait_for(heard_first, lambda l: l.startswith(b"<127.0.0.1:") and l.endswith(b"> hello from socat\n")),
              "the line reaches the other socat as <ADDR> text")
        check(not any(b"hello from socat" in l for l in heard_second), "the sender does not get its own line")
        second.stdin.close()  # socat half-closes: it has said all it will, and still listens
        first.stdin.write(b"still there?\n")
        first.stdin.flush()
        check(wait_for(heard_second, lambda l: l.endswith(b"> still there?\n")),
              "the half-closed socat still hears the room")
        # socat listens as long as lines come; then it goes. Gone or only
        # half-closed look the same from the server's side until a line to
        # it fails: the room talks until it does.
        harness.stop(second)
        left = False
        deadline = time.monotonic() + 20
        while not left and time.monotonic() < deadline:
            first.stdin.write(b"anyone?\n")
            first.stdin.flush()
            left = wait_for(heard_first, lambda l: l.endswith(b" left\n"), timeout=0.5)
        check(left, "the first socat hears the second leave once it has gone")
    finally:
        for proc in (first, second):
            if proc:
                harness.stop(proc)
        harness.stop(server)


def test_echo_with_socat():
    server, port = harness.start_server("tcp_server", "--mode", "echo")
    try:
        data = b"".join(b"line %d\r\n" % i for i in range(10000))
        result = subprocess.run(["socat", "-t", "5", "-", f"TCP:127.0.0.1:{port}"], input=data,
                                capture_output=True, timeout=30)
        check(result.stdout == data, f"socat gets {len(data)} bytes of CRLF lines back intact")
    finally:
        harness.stop(server)


harness.run(test_room_with_socat, test_echo_with_socat)
