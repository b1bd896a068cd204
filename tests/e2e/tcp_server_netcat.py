#!/usr/bin/env python3
"""tcp_server against OpenBSD netcat (`nc -N`: half-close at the end of input)."""

import subprocess

import harness
from harness import check

harness.need("nc")
if harness.emulator():
    print("skipped: netcat is checked against the native build")
    raise SystemExit(harness.SKIP)


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
    proc, port = harness.start_server("tcp_server", "--mode", "chat")
    try:
        result = nc(port, b"hello from netcat\n")
        check(result.returncode == 0, "nc ends when its input ends and the server closes")
        harness.stop(proc)
        out = proc.stdout.read()
        check(b"] hello from netcat\n" in out, "the line appears on the server's stdout")
    finally:
        harness.stop(proc)


harness.run(test_echo_through_netcat, test_chat_through_netcat)
