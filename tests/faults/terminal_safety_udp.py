#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Escape sequences aimed at the operator's terminal (clear screen, set the
window title, ring the bell, C1 CSI, right-to-left override) and format-string
bait sent in datagrams reach udp_server's stdout only as visible escapes,
never as the bytes that would drive the terminal."""

import socket

from faults import TERMINAL_ATTACKS, check, judge_terminal_output, run, start_server, stop, wait_until
from udp_checks import exchange


def test_udp_server():
    server, port, out, _ = start_server("udp_server")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            # Each sent until its echo comes (UDP may drop one), so each is printed.
            for name, (attack, _) in TERMINAL_ATTACKS.items():
                reply, _ = exchange(sock, attack, ("127.0.0.1", port))
                check(reply == attack, f"{name}: echoed exactly")
            exchange(sock, b"end of attacks", ("127.0.0.1", port))
            wait_until(lambda: b"end of attacks" in out.data(), 5)
    finally:
        stop(server)
    judge_terminal_output("udp_server", out.finish())


run(test_udp_server)
