#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Escape sequences aimed at a terminal (clear screen, set the window title,
ring the bell, C1 CSI, right-to-left override) and format-string bait sent by
a TCP peer reach tcp_server's chat stdout, and the other participants of a
room, only as visible escapes, never as the bytes that would drive a terminal
(a room participant on telnet or nc shows what it receives as it is)."""

from faults import (TERMINAL_ATTACKS, check, connect, judge_terminal_output, recv_until, run, start_server, stop,
                    wait_until)


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


def test_tcp_server_room():
    server, port, _, _ = start_server("tcp_server", "--mode", "room")
    try:
        with connect(port) as reader, connect(port) as attacker:
            recv_until(reader, b" joined\n")  # the attacker's arrival: both are in the room
            attacker.sendall(b"hi\x1b]0;pwned\x07\n")
            for attack, _ in TERMINAL_ATTACKS.values():
                attacker.sendall(attack + b"\n")
            attacker.sendall(b"end of attacks\n")
            received = recv_until(reader, b"end of attacks\n")
    finally:
        stop(server)
    check(b"> hi\\x1b]0;pwned\\x07\n" in received, "the set-title line reaches the room as text")
    judge_terminal_output("tcp_server room", received)


run(test_tcp_server_chat, test_tcp_server_room)
