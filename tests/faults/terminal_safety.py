#!/usr/bin/env python3
"""Escape sequences aimed at the operator's terminal (clear screen, set the
window title, ring the bell, C1 CSI, right-to-left override) and format-string
bait sent by a peer reach tcp_server's chat stdout and udp_server's stdout
only as visible escapes, never as the bytes that would drive the terminal."""

import socket

from faults import check, connect, run, start_server, stop, wait_until

ATTACKS = {
    "clear screen": (b"\x1b[2J\x1b[H", b"\\x1b[2J\\x1b[H"),
    "set title": (b"\x1b]0;owned\x07", b"\\x1b]0;owned\\x07"),
    "bell": (b"ding\x07\x07", b"ding\\x07\\x07"),
    "C1 CSI": (b"\xc2\x9b31m", b"\\u009b31m"),
    "right-to-left override": (b"abc\xe2\x80\xaetxt.exe", b"abc\\u202etxt.exe"),
    "format string": (b"{} {:>99999999} %s%n%x", b"{} {:>99999999} %s%n%x"),
}
DRIVING = set(range(0x20)) - {ord("\n")} | {0x7f}


def judge(program, printed):
    for name, (attack, shown) in ATTACKS.items():
        check(shown in printed, f"{program}: {name} shown as {shown.decode()}")
    check(not DRIVING.intersection(printed), f"{program}: no control byte on stdout")
    check(b"\xc2\x9b" not in printed and b"\xe2\x80\xae" not in printed, f"{program}: no C1 or bidi control")


def test_tcp_server_chat():
    server, port, out, _ = start_server("tcp_server", "--mode", "chat")
    try:
        with connect(port) as sock:
            for attack, _ in ATTACKS.values():
                sock.sendall(attack + b"\n")
            sock.sendall(b"end of attacks\n")
            wait_until(lambda: b"end of attacks" in out.data(), 5)
    finally:
        stop(server)
    judge("tcp_server chat", out.finish())


def test_udp_server():
    server, port, out, _ = start_server("udp_server")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(2)
            for attack, _ in ATTACKS.values():
                sock.sendto(attack, ("127.0.0.1", port))
                sock.recvfrom(65536)
            sock.sendto(b"end of attacks", ("127.0.0.1", port))
            sock.recvfrom(65536)
            wait_until(lambda: b"end of attacks" in out.data(), 5)
    finally:
        stop(server)
    judge("udp_server", out.finish())


run(test_tcp_server_chat, test_udp_server)
