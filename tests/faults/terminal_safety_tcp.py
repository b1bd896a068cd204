#!/usr/bin/env python3
"""Escape sequences aimed at the operator's terminal (clear screen, set the
window title, ring the bell, C1 CSI, right-to-left override) and format-string
bait sent by a TCP peer reach tcp_server's chat stdout only as visible
escapes, never as the bytes that would drive the terminal."""

from faults import TERMINAL_ATTACKS, connect, judge_terminal_output, run, start_server, stop, wait_until


def test_tcp_server_chat():
    server, port, out, _ = start_server("tcp_server", "--mode", "chat")
    try:
        with connect(port) as sock:
            for attack, _ in TERMINAL_ATTACKS.values():
                sock.sendall(attack + b"\n")
            sock.sendall(b"end of attacks\n")
            wait_until(lambda: b"end of attacks" in out.data(), 5)
    finally:
        stop(server)
    judge_terminal_output("tcp_server chat", out.finish())


run(test_tcp_server_chat)
