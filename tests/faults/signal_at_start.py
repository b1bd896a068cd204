#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""SIGTERM as soon as a server has said where it listens: it exits 0, like any
other SIGTERM. A server that prints its `listening on` line before it handles
signals dies of the signal instead (exit -15) when the signal comes first."""

import argparse
import signal

from faults import check, harness, run

STARTS = 20


def terminate_right_after_listening(name):
    codes = []
    for _ in range(STARTS):
        proc, _ = harness.start_server(name)
        # One signal, then its result (harness.stop() would send a second one
        # at once, which a server that ignored the first would obey).
        code = harness.signal_and_wait(proc, signal.SIGTERM)
        codes.append(code if code is not None else harness.stop(proc))
    check(codes.count(0) == STARTS, f"{name}: exit 0 after {codes.count(0)} of {STARTS} starts (codes {set(codes)})")


def test_tcp_server():
    terminate_right_after_listening("tcp_server")


def test_udp_server():
    terminate_right_after_listening("udp_server")


parser = argparse.ArgumentParser()
parser.add_argument("--server", choices=["tcp_server", "udp_server"], help="test only this server")
ONLY = parser.parse_known_args()[0].server
run(*[test for test, name in ((test_tcp_server, "tcp_server"), (test_udp_server, "udp_server"))
      if ONLY in (None, name)])
