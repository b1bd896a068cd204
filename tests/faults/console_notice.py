#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""The count of console lines not shown is said as soon as the console reads
again, even when nothing else is printed after it: tcp_server in chat mode,
its stdout not read for a while as a client sends 150,000 lines, then read
again. Every line is on the console or counted. Before, the count waited for
a next line to print, and with none the lost lines vanished without a word."""

import subprocess
import threading
import time

from faults import Output, check, connect, harness, run, tally_console, wait_accounted

LINES = 150_000


def test_notice_without_a_next_line():
    server, port = harness.start_server("tcp_server", "--mode", "chat", stdout=subprocess.PIPE)
    err = Output(server.stderr)
    try:
        with connect(port) as sock:
            sock.sendall(b"".join(b"flood %d\n" % i for i in range(1, LINES + 1)))
            time.sleep(2.0)  # the console does not read meanwhile
            out = Output(server.stdout)  # now it does, and the client sends nothing more
            shown, missed = wait_accounted(lambda: tally_console(out.data(), lambda line: b"> flood " in line), LINES)
            check(missed > 0, f"lines were dropped while the console did not read ({missed})")
            check(shown + missed == LINES,
                  f"every line is shown or counted, with no line after them: {shown} + {missed} of {LINES}")
            sock.sendall(b"q\n")
        code = harness.signal_and_wait(server, timeout=5)
        check(code == 0, f"exit 0 on SIGTERM (exit {code})")
    finally:
        harness.stop(server)


run(test_notice_without_a_next_line)
