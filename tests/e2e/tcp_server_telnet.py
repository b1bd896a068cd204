#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""The seed's own test: "test via telnet to the port". telnet is driven
through a pipe: a line typed into it reaches the operator, the operator's
answer reaches telnet, and 'q' ends the session."""

import subprocess
import threading
import time

import harness
from harness import check

harness.need("telnet")
harness.skip_under_emulator("telnet is checked against the native build")


def read_into(stream, sink):
    for chunk in iter(lambda: stream.read1(4096), b""):
        sink.append(chunk)


def wait_for(sink, part, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if part in b"".join(sink):
            return True
        time.sleep(0.02)
    return False


def test_conversation_over_telnet():
    server, port = harness.start_server("tcp_server", "--mode", "chat")
    server_out, telnet_out = [], []
    threading.Thread(target=read_into, args=(server.stdout, server_out), daemon=True).start()
    telnet = subprocess.Popen(["telnet", "127.0.0.1", str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    threading.Thread(target=read_into, args=(telnet.stdout, telnet_out), daemon=True).start()
    try:
        check(wait_for(telnet_out, b"Connected to"), "telnet connects")
        telnet.stdin.write(b"hello from telnet\n")
        telnet.stdin.flush()
        check(wait_for(server_out, b"> hello from telnet\n"), "telnet's line reaches the operator, CRLF removed")
        server.stdin.write(b"hello, telnet\n")
        server.stdin.flush()
        check(wait_for(telnet_out, b"hello, telnet"), "the operator's line reaches telnet")
        telnet.stdin.write(b"q\n")
        telnet.stdin.flush()
        check(wait_for(telnet_out, b"Connection closed by foreign host"), "'q' ends the session")
        check(telnet.wait(5) is not None, "telnet ends")
    finally:
        harness.stop(telnet)
        harness.stop(server)


harness.run(test_conversation_over_telnet)
