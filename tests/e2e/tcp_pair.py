#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""tcp_client and tcp_server talking to each other, as a workshop runs them:
an echo session and a chat in both directions. Also runs under Wine for the
MinGW build, where both are .exe programs."""

import threading
import time

import harness
from harness import check, start, start_server, stop

TIMEOUT = 60  # generous: the first start of a program under Wine is slow


def test_echo_session():
    server, port = start_server("tcp_server", "--mode", "echo")
    try:
        client = start("tcp_client", "127.0.0.1", port)
        sent = b"hello\r\nworld\nno line end"
        out, err = client.communicate(sent, timeout=TIMEOUT)
        check(client.returncode == 0, f"tcp_client exits 0 (got {client.returncode})")
        check(out == sent, f"piped input goes out and comes back byte for byte, CRLF and a last line "
                           f"without LF included: {out!r}")
    finally:
        stop(server)


def read_line_from(stream, lines):
    for raw in iter(stream.readline, b""):
        lines.append(raw.decode(errors="replace").rstrip("\r\n"))


def wait_for(lines, wanted, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(wanted in line for line in lines):
            return True
        time.sleep(0.05)
    return False


def test_chat_both_ways():
    server, port = start_server("tcp_server", "--mode", "chat")
    server_lines = []
    threading.Thread(target=read_line_from, args=(server.stdout, server_lines), daemon=True).start()
    try:
        client = start("tcp_client", "127.0.0.1", port)
        client_lines = []
        threading.Thread(target=read_line_from, args=(client.stdout, client_lines), daemon=True).start()

        client.stdin.write(b"hi from the client\n")
        client.stdin.flush()
        check(wait_for(server_lines, "> hi from the client"),
              f"the server shows the client's line as <ADDR> text: {server_lines}")

        server.stdin.write(b"hi from the server\n")
        server.stdin.flush()
        check(wait_for(client_lines, "hi from the server"),
              f"the client prints the server's line: {client_lines}")

        client.stdin.write(b"q\n")
        client.stdin.flush()
        client.wait(TIMEOUT)
        check(client.returncode == 0, f"'q' ends the client with exit 0 (got {client.returncode})")
        check(server.poll() is None, "the server keeps listening after the client's q")
    finally:
        stop(server)


def test_question_piped_to_chat():
    """`echo question | tcp_client` against a chat server: the client's input
    ends at once and it half-closes, but the server still answers it, and
    the client prints the answer until the operator's q ends the session."""
    server, port = start_server("tcp_server", "--mode", "chat")
    server_lines = []
    threading.Thread(target=read_line_from, args=(server.stdout, server_lines), daemon=True).start()
    try:
        client = start("tcp_client", "127.0.0.1", port)
        client.stdin.write(b"a question\n")
        client.stdin.close()
        check(wait_for(server_lines, "> a question"), f"the question reaches the operator: {server_lines}")
        server.stdin.write(b"an answer\nq\n")
        server.stdin.flush()
        client.wait(TIMEOUT)
        out, err = client.stdout.read(), client.stderr.read()
        check(out == b"an answer\n", f"the client prints the answer after its input ended: {out!r}")
        check(client.returncode == 0, f"and exits 0 when the operator's q ends it (exit {client.returncode}, "
                                      f"{harness.said(err).strip()!r})")
    finally:
        stop(server)


if __name__ == "__main__":
    harness.run(test_echo_session, test_chat_both_ways, test_question_piped_to_chat)
