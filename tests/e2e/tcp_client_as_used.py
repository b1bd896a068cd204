#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""tcp_client as a person uses it, in a pipe: Ctrl-C stops it without
calling that a lost connection (exit 130 as before), and a `q` line in piped
input, which ends the sending, is said on stderr along with the fact that
what follows it was not sent."""

import signal
import subprocess
import threading
import time

import harness
from harness import check

harness.skip_under_emulator("checked against the native build (signals)")

TRIES = 5


def wait_for_connection(client, timeout=30):
    """Reads the client's stderr (it runs with --verbose) until it says it
    has connected; True if it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = client.stderr.readline().decode(errors="replace")
        if not line:
            return False
        if line.startswith("connected to"):
            return True
    return False


def test_ctrl_c_is_no_lost_connection():
    results = []
    for _ in range(TRIES):
        server, port = harness.start_server("tcp_server", "--mode", "echo")
        try:
            client = harness.start("tcp_client", "127.0.0.1", port, "--verbose")
            connected = wait_for_connection(client)
            # The client is in the conversation, both directions waiting.
            code = harness.signal_and_wait(client, signal.SIGINT, timeout=10)
            if code is None:
                code = harness.stop(client)
            err = harness.said(client.stderr.read())
            results.append((connected, code, err))
        finally:
            harness.stop(server)
    for connected, code, err in results:
        check(connected and code == 130, f"Ctrl-C: exit {code} (130 wanted), connected: {connected}")
        check("connection lost" not in err and "Operation canceled" not in err,
              f"Ctrl-C is not called a lost connection: stderr {err.strip()!r}")


def test_a_q_line_in_a_pipe_is_reported():
    server, port = harness.start_server("tcp_server", "--mode", "echo")
    # The server's stderr is read on, so that it never fills.
    threading.Thread(target=server.stderr.read, daemon=True).start()
    try:
        for _ in range(TRIES):
            client = subprocess.run(harness.program("tcp_client", "127.0.0.1", port), input=b"1\nq\n2\n",
                                    capture_output=True, timeout=60)
            err = harness.said(client.stderr)
            check(client.returncode == 0 and client.stdout == b"1\n",
                  f"1 is sent and echoed, 2 is not (exit {client.returncode}, {client.stdout!r})")
            check("stopped at a 'q' line" in err and "not sent" in err,
                  f"the q line is reported on stderr: {err.strip()!r}")
        client = subprocess.run(harness.program("tcp_client", "127.0.0.1", port), input=b"1\n2\n",
                                capture_output=True, timeout=60)
        err = harness.said(client.stderr)
        check(client.returncode == 0 and client.stdout == b"1\n2\n" and "'q'" not in err,
              f"without a q line nothing is said of one (exit {client.returncode}, {err.strip()!r})")
    finally:
        harness.stop(server)


def test_help_says_q_is_a_command():
    shown = subprocess.run(harness.program("tcp_client", "--help"), capture_output=True, timeout=30)
    text = shown.stdout.decode(errors="replace")
    check(shown.returncode == 0 and "q" in text and "pipe" in text and "command" in text,
          "--help says a q line is a command, in a pipe too")


harness.run(test_ctrl_c_is_no_lost_connection, test_a_q_line_in_a_pipe_is_reported, test_help_says_q_is_a_command)
