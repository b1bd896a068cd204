#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""A console that stops reading (a terminal paused with Ctrl-S, a pipe nobody
drains) stops nothing: tcp_server in chat mode, its stdout a pipe this script
never reads, is sent ten times what the pipe holds. It keeps admitting and
serving clients, says so on stderr, and exits 0 on SIGTERM within a second."""

import subprocess
import time

from faults import Output, check, connect, harness, run, wait_until

PIPE_HOLDS = 64 * 1024  # Linux's default pipe buffer
LINE = b"x" * 99 + b"\n"


def test_unread_stdout():
    server, port = harness.start_server("tcp_server", "--mode", "chat", stdout=subprocess.PIPE)
    err = Output(server.stderr)  # stderr is read; stdout never is
    try:
        talker = connect(port)
        talker.sendall(LINE * (10 * PIPE_HOLDS // len(LINE)))  # each line goes to stdout
        time.sleep(0.5)
        late = connect(port)
        name = "127.0.0.1:%d" % late.getsockname()[1]
        check(wait_until(lambda: f"{name} connected" in err.text(), 5),
              "a client connecting after the flood is admitted and announced on stderr")
        late.sendall(b"q\n")
        check(wait_until(lambda: f"{name} disconnected" in err.text(), 5),
              "its 'q' is read and ends its session")
        started = time.monotonic()
        code = harness.signal_and_wait(server)
        took = time.monotonic() - started
        check(code == 0, f"SIGTERM: exit 0 with stdout not read (exit {code})")
        check(code is not None and took < 1.0 + (harness.LOST_SIGNAL_WAIT if harness.UNDER_TSAN else 0),
              f"SIGTERM: exit within a second ({took:.2f} s)")
        talker.settimeout(5)
        said = b""
        while not said.endswith(b"server shutting down\n"):
            chunk = talker.recv(65536)
            if not chunk:
                break
            said += chunk
        check(said.endswith(b"server shutting down\n"), f"the talker heard the shutdown: {said[-60:]!r}")
    finally:
        harness.stop(server)


run(test_unread_stdout)
