#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""tcp_server against OpenBSD netcat (`nc -N`: half-close at the end of input)."""

import subprocess
import threading
import time

import harness
from harness import check

harness.need("nc")
harness.skip_under_emulator("netcat is checked against the native build")


def nc(port, data, timeout=30):
    return subprocess.run(["nc", "-N", "127.0.0.1", str(port)], input=data, capture_output=True, timeout=timeout)


def test_echo_through_netcat():
    proc, port = harness.start_server("tcp_server", "--mode", "echo")
    try:
        lines = b"plain\ncrlf\r\nnul\x00byte\n\xff\xfe\xfd\n\r\n\n"
        check(nc(port, lines).stdout == lines, "nc gets every line back byte for byte")
        big = b"".join(b"%06d %s\n" % (i, b"x" * (i % 200)) for i in range(20000))
        check(nc(port, big).stdout == big, f"nc gets {len(big)} pipelined bytes back intact")
        check(nc(port, b"last line without LF").stdout == b"last line without LF",
              "the unterminated last line comes back when nc half-closes")
        check(nc(port, b"one\nq\ntwo\n").stdout == b"one\nq\n", "'q' comes back and ends the session")
    finally:
        harness.stop(proc)


def test_chat_through_netcat():
    """nc -N half-closes once its input ends, and still listens: the chat
    server answers it (the operator's lines reach it) until the operator's q."""
    proc, port = harness.start_server("tcp_server", "--mode", "chat")
    shown = []

    def read_stdout():
        for line in iter(proc.stdout.readline, b""):
            shown.append(line)

    threading.Thread(target=read_stdout, daemon=True).start()
    try:
        asker = subprocess.Popen(["nc", "-N", "127.0.0.1", str(port)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        asker.stdin.write(b"a question from netcat\n")
        asker.stdin.close()  # nc -N now half-closes
        deadline = time.monotonic() + 30
        while not any(line.endswith(b"> a question from netcat\n") for line in shown) and time.monotonic() < deadline:
            time.sleep(0.02)
        check(any(line.endswith(b"> a question from netcat\n") for line in shown),
              "the question appears on the server's stdout")
        proc.stdin.write(b"the answer\nq\n")  # the operator answers, then ends the sessions
        proc.stdin.flush()
        try:
            asker.wait(30)
        except subprocess.TimeoutExpired:
            asker.kill()
        out = asker.stdout.read()
        check(out == b"the answer\nq\n", f"the half-closed nc gets the answer, then q: {out!r}")
        check(asker.returncode == 0, f"nc ends when the server closes after its q (exit {asker.returncode})")
    finally:
        harness.stop(proc)


harness.run(test_echo_through_netcat, test_chat_through_netcat)
