#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""What the servers' operators see, as a person running them would: why each
client left (`ADDR disconnected (WHY)`), a hint when a typed chat line
reached nobody, one address rule everywhere (an IPv6 peer as
`<[::1]:PORT> text`, `--listen '[::1]'` accepted, no warning for the IPv4
loopback written as IPv6), and the clients taking `[::1]` as an address."""

import socket
import struct
import subprocess
import threading
import time

import harness
from harness import check

harness.skip_under_emulator("the servers' consoles are checked against the native build")


class Lines:
    """Collects a pipe's lines on a thread; waits for one that contains `text`."""

    def __init__(self, pipe):
        self.lines = []
        threading.Thread(target=lambda: self.lines.extend(self._read(pipe)), daemon=True).start()

    def _read(self, pipe):
        for line in iter(pipe.readline, b""):
            self.lines.append(line.decode(errors="replace"))
        return []

    def wait_for(self, text, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            time.sleep(0.02)
        return False

    def text(self):
        return "".join(self.lines)


def name(sock):
    """How the server names a loopback client: 127.0.0.1:PORT."""
    return "127.0.0.1:%d" % sock.getsockname()[1]


def has_ipv6():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_why_each_client_left():
    server, port = harness.start_server("tcp_server", "--mode", "chat", "--max-line", "10", "--max-connections", "3")
    err = Lines(server.stderr)
    try:
        quitter = harness.connect(port)
        quitter.sendall(b"q\n")
        check(err.wait_for(f"{name(quitter)} disconnected (q)"), "a client's q: (q)")
        long_liner = harness.connect(port)
        long_liner.sendall(b"x" * 20 + b"\n")
        check(err.wait_for(f"{name(long_liner)} disconnected (line too long)"), "an overlong line: (line too long)")
        resetter = harness.connect(port)
        resetter_name = name(resetter)
        check(err.wait_for(f"{resetter_name} connected"), "a client is admitted")
        reset(resetter)
        check(err.wait_for(f"{resetter_name} disconnected (connection lost)"), "a reset: (connection lost)")
        held = [harness.connect(port) for _ in range(3)]
        for sock in held:
            sock.sendall(b"hi\n")
        extra = harness.connect(port)
        check(err.wait_for(f"{name(extra)} turned away: server full"), "one too many: turned away: server full")
        server.stdin.write(b"q\n")
        server.stdin.flush()
        check(all(err.wait_for(f"{name(sock)} disconnected (the operator's q)") for sock in held),
              "the operator's q: (the operator's q)")
        last = harness.connect(port)
        check(err.wait_for(f"{name(last)} connected"), "a client is admitted")
        code = harness.signal_and_wait(server)
        check(code == 0 and err.wait_for(f"{name(last)} disconnected (server shutting down)"),
              "shutdown: (server shutting down)")
    finally:
        harness.stop(server)


def test_idle_reason():
    server, port = harness.start_server("tcp_server", "--mode", "chat", "--idle-timeout", "0.3")
    err = Lines(server.stderr)
    try:
        with harness.connect(port) as idler:
            check(err.wait_for(f"{name(idler)} disconnected (idle timeout)"),
                  "silence: (idle timeout)")
    finally:
        harness.stop(server)


def test_a_line_to_nobody():
    server, port = harness.start_server("tcp_server", "--mode", "chat")
    err = Lines(server.stderr)
    try:
        server.stdin.write(b"hello, anyone?\n")
        server.stdin.flush()
        check(err.wait_for("no client is connected: that line reached nobody"),
              "a line typed with nobody connected says it reached nobody")
        with harness.connect(port) as sock:
            # Its own line: "(no client is connected: ...)" above says "connected" too.
            check(err.wait_for(f"{name(sock)} connected"), "a client is admitted")
            server.stdin.write(b"hello, you\n")
            server.stdin.flush()
            check(harness.recv_until(sock, b"\n") == b"hello, you\n", "with a client, the line reaches it")
        check(err.text().count("reached nobody") == 1, "and says nothing of the kind then")
    finally:
        harness.stop(server)


def test_one_address_rule():
    if not has_ipv6():
        print("skipped here: this machine has no ::1")
        return
    server, port = harness.start_server("tcp_server", "--mode", "chat", "--listen", "[::1]")
    out = Lines(server.stdout)
    try:
        with harness.connect(port, host="::1") as sock:
            sock.sendall(b"from six\n")
            peer = "[::1]:%d" % sock.getsockname()[1]
            check(out.wait_for(f"<{peer}> from six"), f"an IPv6 peer's line is shown as <{peer}> text")
            client = harness.start("tcp_client", "[::1]", port, stdout=subprocess.PIPE)
            client.stdin.write(b"from tcp_client\n")
            client.stdin.close()
            check(out.wait_for("> from tcp_client"), "tcp_client takes [::1] as the address")
            harness.stop(client)
    finally:
        harness.stop(server)
    udp, udp_port = harness.start_server("udp_server", "--listen", "[::1]")
    try:
        answer = subprocess.run(harness.program("udp_client", "[::1]", udp_port), input=b"over six\n",
                                capture_output=True, timeout=30)
        check(answer.returncode == 0 and answer.stdout == b"over six\n",
              f"udp_server --listen '[::1]' and udp_client [::1] talk (exit {answer.returncode}, {answer.stdout!r})")
    finally:
        harness.stop(udp)
    mapped = harness.start("tcp_server", "--listen", "::ffff:127.0.0.1", "--port", "0")
    try:
        said = mapped.stderr.readline().decode()
        while "listening on" not in said and said:
            if "warning" in said:
                break
            said = mapped.stderr.readline().decode()
        check("warning" not in said and "listening on" in said,
              f"::ffff:127.0.0.1 is loopback: no warning ({said.strip()!r})")
    finally:
        harness.stop(mapped)


harness.run(test_why_each_client_left, test_idle_reason, test_a_line_to_nobody, test_one_address_rule)
