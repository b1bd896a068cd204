#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""udp_client as a person uses it: a person answering on `nc -u -l` (whose
reply carries the LF of Enter) is an answer; with `localhost` naming both
127.0.0.1 and ::1 and the server only on ::1, the client goes on to the
next address; at a terminal it prompts, in a pipe it never does."""

import os
import pty
import select
import socket
import subprocess
import time

import harness
from harness import check

harness.skip_under_emulator("checked against the native build (a pty, nc)")


def test_a_person_on_nc_answers():
    harness.need("nc")
    port = harness.free_port(socket.SOCK_DGRAM)
    person = subprocess.Popen(["nc", "-u", "-l", "127.0.0.1", str(port)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)  # nc is listening
        client = harness.start("udp_client", "127.0.0.1", port, "--timeout", "10", "--retries", "0")
        client.stdin.write(b"hello\n")
        client.stdin.flush()
        heard = person.stdout.read(5)  # nc shows the datagram
        person.stdin.write(b"hello\n")  # the person types it back, with Enter
        person.stdin.flush()
        client.stdin.write(b"q\n")
        client.stdin.close()
        client.wait(30)
        out, err = client.stdout.read(), harness.said(client.stderr.read())
        check(heard == b"hello", f"nc got the line: {heard!r}")
        check(client.returncode == 0 and out == b"hello\n",
              f"the reply with its LF answers the line (exit {client.returncode}, {out!r}, {err.strip()!r})")
    finally:
        harness.stop(person)


def has_both_loopbacks():
    try:
        infos = socket.getaddrinfo("localhost", 1, type=socket.SOCK_DGRAM)
    except OSError:
        return False
    families = {info[0] for info in infos}
    return socket.AF_INET in families and socket.AF_INET6 in families and infos[0][0] == socket.AF_INET


def test_the_next_address_on_a_refusal():
    if not has_both_loopbacks():
        print("skipped here: localhost does not name 127.0.0.1 first and ::1 too")
        return
    server, port = harness.start_server("udp_server", "--listen", "::1")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # nobody on 127.0.0.1:PORT
            probe.bind(("127.0.0.1", 0))
        answer = subprocess.run(harness.program("udp_client", "localhost", port, "--verbose"), input=b"which one?\n",
                                capture_output=True, timeout=30)
        said = harness.said(answer.stderr)
        check(answer.returncode == 0 and answer.stdout == b"which one?\n",
              f"the client reaches the server on ::1 (exit {answer.returncode}, {answer.stdout!r})")
        check(f"no server at 127.0.0.1:{port} (connection refused)" in said and f"[::1]:{port} answered" in said,
              f"--verbose says which address refused and which answered: {said.strip()!r}")
    finally:
        harness.stop(server)


def read_screen(fd, until, timeout=10):
    """What the program wrote to the terminal, up to `until` (bytes) or the timeout."""
    seen = b""
    deadline = time.monotonic() + timeout
    while until not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_a_prompt_at_a_terminal_only():
    server, port = harness.start_server("udp_server")
    try:
        leader, follower = pty.openpty()
        client = subprocess.Popen(harness.program("udp_client", "127.0.0.1", port), stdin=follower,
                                  stdout=follower, stderr=follower)
        os.close(follower)
        first = read_screen(leader, b"SEND (q or Q to quit): ")
        check(first.endswith(b"SEND (q or Q to quit): "), f"at a terminal it prompts before the first line: {first!r}")
        os.write(leader, b"hi\n")
        after = read_screen(leader, b"SEND (q or Q to quit): ")
        check(b"RECEIVED: hi (rtt " in after and after.endswith(b"SEND (q or Q to quit): "),
              f"it shows the echo, then prompts again: {after!r}")
        os.write(leader, b"q\n")
        client.wait(30)
        os.close(leader)
        piped = subprocess.run(harness.program("udp_client", "127.0.0.1", port), input=b"hi\n", capture_output=True,
                               timeout=30)
        check(piped.stdout == b"hi\n", f"in a pipe, no prompt: {piped.stdout!r}")
    finally:
        harness.stop(server)


harness.run(test_a_person_on_nc_answers, test_the_next_address_on_a_refusal, test_a_prompt_at_a_terminal_only)
