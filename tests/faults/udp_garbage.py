#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""udp_server fed thousands of random datagrams (a tag, then 0 to 9,000 bytes
of random binary), senders that vanish before the reply, and a burst it cannot
keep up with, keeps answering each datagram it receives with exactly its
bytes, and prints exactly one terminal-safe line for each.

UDP may drop a datagram anywhere (loopback does when a receive buffer is
full), so only the sender that waits for each echo, and sends again when none
comes, may expect every datagram answered. Of the others the test knows only
what the server printed: each printed line must be one datagram that was sent,
printed once. Each datagram starts with a printable tag ("a0042 ") that the
server prints as it is, which tells the lines apart."""

import random
import re
import socket
import tempfile

from faults import check, check_clean_exit, run, start_server

DATAGRAMS = 3000  # answered: the sender waits for each echo
TRIES = 5  # sends of one answered datagram before the test gives up on it
PATIENCE = 2  # seconds for an echo before the datagram is sent again
VANISHING = 200
BURST = 2000  # sent without waiting: loopback may drop some, the server must not care
CONTROL = set(range(0x20)) - {ord("\n")} | {0x7f}
SENT = {"a": DATAGRAMS, "b": BURST, "v": VANISHING}  # datagrams of each kind of tag
TAG = re.compile(rb"a(\d{4}) ")
LINE = re.compile(rb"\(127\.0\.0\.1 (\d+)\) said: ([abv])(\d{4}) ")
NOTICE = re.compile(rb"\((\d+) lines not shown: the console was not reading\)$")


def tagged(kind, index, rng, largest=9000):
    return f"{kind}{index:04d} ".encode() + rng.randbytes(rng.randint(0, largest))


def tag_of(reply):
    found = TAG.match(reply)
    return int(found.group(1)) if found else None


def test_random_datagrams():
    rng = random.Random(9000)
    with tempfile.TemporaryFile() as stdout:
        server, port, _, err = start_server("udp_server", stdout=stdout)
        target = ("127.0.0.1", port)
        try:
            # Senders that disappear: the replies meet closed ports (ICMP unreachable).
            vanished_ports = []
            for i in range(VANISHING):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as gone:
                    gone.sendto(tagged("v", i, rng, 64), target)
                    vanished_ports.append(gone.getsockname()[1])

            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flood:
                flood.bind(("127.0.0.1", 0))
                flood_port = flood.getsockname()[1]
                for i in range(BURST):
                    flood.sendto(tagged("b", i, rng), target)

            # One datagram at a time, each sent again until its echo comes:
            # what this sender gets back must be complete and exact. (The
            # first ones may find the server's buffer still full of the burst.)
            payloads, sends = [], []
            answered = inexact = late = 0
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.bind(("127.0.0.1", 0))
                sender_port = sock.getsockname()[1]
                sock.settimeout(PATIENCE)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                for i in range(DATAGRAMS):
                    payloads.append(tagged("a", i, rng))
                    sends.append(0)
                    echoed = False
                    while not echoed and sends[i] < TRIES:
                        sock.sendto(payloads[i], target)
                        sends[i] += 1
                        try:
                            while True:
                                reply, _ = sock.recvfrom(65536)
                                tag = tag_of(reply)
                                if tag is None or tag > i or reply != payloads[tag]:
                                    inexact += 1
                                elif tag < i:
                                    late += 1  # the echo of an earlier send of an earlier datagram
                                else:
                                    echoed = True
                                    break
                        except TimeoutError:
                            pass
                    answered += echoed
            resent = sum(sends) - DATAGRAMS
            check(answered == DATAGRAMS and inexact == 0,
                  f"{answered} of {DATAGRAMS} random datagrams echoed exactly, {inexact} replies not "
                  f"a datagram's exact bytes ({resent} sent again after {PATIENCE} s without an echo, "
                  f"{late} late echoes)")
            check(server.poll() is None, "the server keeps running")
        finally:
            check_clean_exit(server, err)
        stdout.seek(0)
        printed = stdout.read()

    lines = printed.split(b"\n")
    check(lines[-1] == b"", "the output ends with a whole line")
    lines = lines[:-1]
    printed_per_tag = {}
    missed = strangers = 0
    for line in lines:
        if notice := NOTICE.match(line):
            missed += int(notice.group(1))
            continue
        found = LINE.match(line)
        if not found:
            strangers += 1
            continue
        line_port, kind, index = int(found.group(1)), found.group(2).decode(), int(found.group(3))
        if index >= SENT[kind]:
            strangers += 1
            continue
        expected_port = {"a": sender_port, "b": flood_port}.get(kind) or vanished_ports[index]
        if line_port != expected_port:
            strangers += 1
            continue
        printed_per_tag[(kind, index)] = printed_per_tag.get((kind, index), 0) + 1

    check(strangers == 0, f"every line is in the seed's format, from the datagram's sender, with a tag "
                          f"that was sent ({strangers} lines not)")
    unprinted = sum(1 for i in range(DATAGRAMS) if ("a", i) not in printed_per_tag)
    check(unprinted <= missed,
          f"every answered datagram printed ({unprinted} not, {missed} counted as not shown)")
    too_often = [(kind, i) for (kind, i), count in printed_per_tag.items()
                 if count > (sends[i] if kind == "a" else 1)]
    check(not too_often, f"no datagram printed more often than it was sent: {too_often[:5]}")
    for kind, how in (("v", "from senders that vanished"), ("b", "in a burst")):
        arrived = sum(1 for (k, _) in printed_per_tag if k == kind)
        check(0 < arrived <= SENT[kind], f"{arrived} lines printed for the {SENT[kind]} datagrams sent {how} "
                                         "(UDP may drop some)")
    check(not CONTROL.intersection(printed), "no control byte reached stdout")


run(test_random_datagrams)
