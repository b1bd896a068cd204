#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""A peer trickling one byte every 100 ms and never ending a line is closed at
the idle timeout (idle = no complete line), with `error: idle timeout`, while a
peer that sends whole lines at the same pace keeps its connection."""

import threading
import time

from faults import check, check_clean_exit, connect, run, start_server

IDLE_TIMEOUT = 1  # seconds (--idle-timeout)


def trickle(port, result):
    """Sends one byte every 100 ms until the server closes the connection;
    records how long it lasted and what came back."""
    sock = connect(port)
    sock.settimeout(0.1)
    started = time.monotonic()
    received = b""
    try:
        while time.monotonic() - started < IDLE_TIMEOUT + 5:
            sock.sendall(b"x")
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                continue
            if not chunk:
                break
            received += chunk
    except (BrokenPipeError, ConnectionResetError):
        pass
    result["lasted"] = time.monotonic() - started
    result["received"] = received
    sock.close()


def chatter(port, result):
    """Sends a whole line every 300 ms for longer than the idle timeout and
    expects each one echoed."""
    echoed = 0
    with connect(port, timeout=3) as sock:
        for i in range(int((IDLE_TIMEOUT + 1.5) / 0.3)):
            line = f"line {i}\n".encode()
            sock.sendall(line)
            if sock.recv(4096) == line:
                echoed += 1
            time.sleep(0.3)
        result["echoed"] = echoed
        result["sent"] = i + 1


def test_trickling_peer_is_closed_at_idle_timeout():
    server, port, _, err = start_server("tcp_server", "--mode", "echo", "--idle-timeout", IDLE_TIMEOUT)
    try:
        slow, busy = {}, {}
        threads = [threading.Thread(target=trickle, args=(port, slow)),
                   threading.Thread(target=chatter, args=(port, busy))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        lasted = slow.get("lasted", 99)
        check(IDLE_TIMEOUT - 0.2 <= lasted <= IDLE_TIMEOUT + 2,
              f"the trickling peer is closed at the idle timeout ({lasted:.2f} s, timeout {IDLE_TIMEOUT} s)")
        check(slow.get("received", b"").endswith(b"error: idle timeout\n"),
              f"it is told why: {slow.get('received', b'')[-60:]!r}")
        check(busy.get("echoed") == busy.get("sent"),
              f"a peer sending whole lines at the same pace is not idle ({busy.get('echoed')}/{busy.get('sent')})")
        check(server.poll() is None, "the server keeps running")
    finally:
        check_clean_exit(server, err)


run(test_trickling_peer_is_closed_at_idle_timeout)
