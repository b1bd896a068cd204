# SPDX-License-Identifier: BSL-1.0
"""What the UDP tests may expect of a network that drops datagrams.

UDP may drop a datagram, or its echo, anywhere: loopback does when a receive
buffer or the kernel's backlog is full, which a busy or shared machine makes
happen. So a test expects every datagram to arrive only when its sender waits
for each answer and sends again when none comes (exchange()). Of datagrams
sent without waiting it knows only what the receiver shows: each one that
arrived, in order, once (is_subsequence()); a resent one may arrive more than
once, up to the number of sends (runs())."""

import select
import time

TRIES = 5
PATIENCE = 2  # seconds for an answer that comes at once unless something was lost


def exchange(sock, payload, target, tries=TRIES, patience=PATIENCE):
    """Sends `payload` from `sock` to `target` until its exact echo comes back,
    at most `tries` times; returns (the echo or None, how many sends). Other
    datagrams that arrive meanwhile (late echoes of earlier sends) are skipped."""
    sock.settimeout(patience)
    for sends in range(1, tries + 1):
        sock.sendto(payload, target)
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            try:
                reply, _ = sock.recvfrom(65536)
            except TimeoutError:
                break
            if reply == payload:
                return reply, sends
    return None, tries


def is_subsequence(part, whole):
    """Whether `part` is `whole` with some of it left out, in the same order."""
    rest = iter(whole)
    return all(any(item == candidate for candidate in rest) for item in part)


def runs(items):
    """[(item, how many times in a row)] for a list of items."""
    result = []
    for item in items:
        if result and result[-1][0] == item:
            result[-1] = (item, result[-1][1] + 1)
        else:
            result.append((item, 1))
    return result


def read_until(pipe, done, timeout=10):
    """Reads what a running process writes to `pipe` until done(what was read)
    is true or `timeout` seconds have passed; returns what was read."""
    data = b""
    deadline = time.monotonic() + timeout
    while not done(data) and time.monotonic() < deadline:
        if select.select([pipe], [], [], 0.05)[0]:
            chunk = pipe.read1(65536)
            if not chunk:
                break
            data += chunk
    return data
