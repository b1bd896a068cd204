#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""tcp_server against python3 socket clients written like the seed's
turn-taking client: the chat conversation, echo with hostile bytes, the
limits, a reset in the middle of a line, shutdown, bind and usage errors.
Runs natively and, for the MinGW build, against tcp_server.exe under Wine."""

import queue
import socket
import struct
import subprocess
import threading
import time

import harness
from harness import check

UNDER_EMULATOR = bool(harness.emulator())


class server_output:
    """Collects a server's stdout lines on a thread, so a test can wait for one."""

    def __init__(self, proc):
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, args=(proc.stdout,), daemon=True).start()

    def _read(self, stream):
        for line in iter(stream.readline, b""):
            if UNDER_EMULATOR:  # a Windows C runtime writes text with CRLF line endings
                line = line.replace(b"\r\n", b"\n")
            self.lines.put(line)

    def wait_for(self, part, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(line)
            if part in line:
                return line
        return None


def type_line(proc, text):
    proc.stdin.write(text + b"\n")
    proc.stdin.flush()


def name_of(sock):
    host, port = sock.getsockname()[:2]
    return f"{host}:{port}".encode()


def recv_line(sock):
    return harness.recv_until(sock, b"\n")


def recv_all(sock):
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def test_turn_taking_chat():
    """The seed's conversation: client and operator take turns; the client's
    'q' ends its session; the operator's 'q' ends every session."""
    proc, port = harness.start_server("tcp_server", "--mode", "chat")
    out = server_output(proc)
    try:
        client = harness.connect(port)
        for turn in range(3):
            client.sendall(f"SEND from client {turn}\n".encode())
            shown = out.wait_for(f"client {turn}".encode())
            check(shown == b"<" + name_of(client) + f"> SEND from client {turn}\n".encode(),
                  f"turn {turn}: the client's line is on the server's stdout as <ADDR> text")
            type_line(proc, f"reply {turn}".encode())
            check(recv_line(client) == f"reply {turn}\n".encode(), f"turn {turn}: the operator's line reached the client")
        client.sendall(b"q\n")
        check(recv_all(client) == b"", "the client's 'q' ends its session")
        client.close()

        first, second = harness.connect(port), harness.connect(port)
        for sock in (first, second):
            sock.sendall(b"here\n")
            out.wait_for(name_of(sock))
        type_line(proc, b"q")
        check(recv_all(first) == b"q\n" and recv_all(second) == b"q\n",
              "the operator's 'q' goes to every client and ends their sessions")
        later = harness.connect(port)
        later.sendall(b"still listening\n")
        check(out.wait_for(b"still listening") is not None, "the server keeps listening after the operator's 'q'")
        proc.stdin.close()  # the end of stdin is not a quit
        time.sleep(0.2)
        later.sendall(b"after eof\n")
        check(out.wait_for(b"after eof") is not None, "the end of the server's stdin is not a quit")
    finally:
        harness.stop(proc)


def test_chat_escape_sequences():
    proc, port = harness.start_server("tcp_server", "--mode", "chat")
    out = server_output(proc)
    try:
        client = harness.connect(port)
        client.sendall(b"\x1b[2J\x1b]0;owned\x07\x9b31m\xff\xfe bell\x07\x00end\n")
        shown = out.wait_for(b"end")
        check(shown is not None and not any(b < 0x20 and b != 0x0A for b in shown) and b"\x7f" not in shown,
              "no control byte of the peer's line reaches the operator's terminal")
        check(shown is not None and b"\\x1b[2J" in shown and b"\\x07" in shown,
              "escape sequences are shown escaped")
    finally:
        harness.stop(proc)


def test_echo_hostile_bytes():
    with harness.running_server("tcp_server", "--mode", "echo", "--max-line", "64") as (_, port):
        client = harness.connect(port)
        lines = [b"a" * 64 + b"\n", b"b" * 63 + b"\r\n", b"nul\x00inside\n", b"\xc3\x28\xff\xfe invalid\n",
                 b"\xff\xfb\x01\xff\xfd\x03iac\n", b"\r\n", b"cr\ronly\n", b"\n", b"\x1b[2J\x1b]0;t\x07\n"]
        client.sendall(b"".join(lines))
        back = harness.recv_until(client, lines[-1])
        check(back == b"".join(lines),
              "max-line bytes, CRLF, NUL, invalid UTF-8, IAC, CR-only and empty lines come back byte for byte")
        client.sendall(b"c" * 65 + b"\n")
        check(recv_all(client) == b"error: line longer than 64 bytes\n", "max-line + 1 bytes: the error line, then closed")
        other = harness.connect(port)
        other.sendall(b"unaffected\n")
        check(recv_line(other) == b"unaffected\n", "another connection is unaffected")


def test_reset_mid_line():
    with harness.running_server("tcp_server", "--mode", "echo") as (proc, port):
        victim = harness.connect(port)
        victim.sendall(b"half of a li")
        victim.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        victim.close()  # RST
        time.sleep(0.2)
        check(proc.poll() is None, "a reset in the middle of a line does not end the server")
        client = harness.connect(port)
        client.sendall(b"next\n")
        check(recv_line(client) == b"next\n", "the server keeps serving after the reset")


def test_limits():
    with harness.running_server("tcp_server", "--mode", "echo", "--idle-timeout", "0.5",
                                "--max-connections", "1") as (_, port):
        first = harness.connect(port)
        first.sendall(b"in\n")
        recv_line(first)
        turned_away = harness.connect(port)
        check(recv_all(turned_away) == b"error: server full\n", "past max-connections: 'error: server full'")
        start = time.monotonic()
        check(recv_all(first) == b"error: idle timeout\n", "an idle client gets 'error: idle timeout'")
        check(time.monotonic() - start < 3, "the idle timeout comes on time")


def test_room():
    with harness.running_server("tcp_server", "--mode", "room") as (_, port):
        a = harness.connect(port)
        b = harness.connect(port)
        check(recv_line(a) == b"* " + name_of(b) + b" joined\n", "a join notice")
        a.sendall(b"hello room\n")
        check(recv_line(b) == b"<" + name_of(a) + b"> hello room\n", "a line reaches the other client as <ADDR> text")
        b.shutdown(socket.SHUT_WR)  # b has said all it will, and still listens
        a.sendall(b"still there?\n")
        check(recv_line(b) == b"<" + name_of(a) + b"> still there?\n", "a half-closed client still hears the room")
        b_name = name_of(b)
        b.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        b.close()  # a reset: gone for good
        if UNDER_EMULATOR:
            # Under Wine the server does not learn of a reset on a connection
            # whose end it has read: neither its wait for an error nor its
            # next write to b ends b's session (docs/reliability.md).
            print("skipped here: a reset after a half-close is not seen under Wine")
        else:
            check(recv_line(a) == b"* " + b_name + b" left\n", "a leave notice")


def test_shutdown():
    if UNDER_EMULATOR:
        print("skipped here: signals to a program under an emulator are not the program's")
        return
    proc, port = harness.start_server("tcp_server", "--mode", "echo")
    clients = [harness.connect(port) for _ in range(3)]
    for sock in clients:
        sock.sendall(b"ready\n")
        recv_line(sock)
    clients[0].sendall(b"unfinished li")
    start = time.monotonic()
    proc.terminate()
    code = proc.wait(5)
    took = time.monotonic() - start
    check(code == 0, f"SIGTERM: exit 0 (got {code})")
    check(took < 1, f"SIGTERM: exit within one second (took {took:.2f}s)")
    check(all(recv_all(sock) == b"server shutting down\n" for sock in clients),
          "every client got 'server shutting down'")


def test_bind_failure_and_usage():
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    command = harness.program("tcp_server", "--port", port)
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    err = harness.said(result.stderr).splitlines()
    check(result.returncode == 1, f"port in use: exit 1 (got {result.returncode})")
    check(err == [f"error: cannot listen on 127.0.0.1:{port}: address already in use"],
          f"port in use: one line naming the address and the reason (stderr: {result.stderr!r})")
    taken.close()
    result = subprocess.run(harness.program("tcp_server", "--mode", "shout"), capture_output=True, timeout=30)
    check(result.returncode == 2, f"a usage error exits 2 (got {result.returncode})")
    result = subprocess.run(harness.program("tcp_server", "--port", "70000"), capture_output=True, timeout=30)
    check(result.returncode == 2, f"a port out of range is a usage error (got {result.returncode})")
    result = subprocess.run(harness.program("tcp_server", "--help"), capture_output=True, timeout=30)
    check(result.returncode == 0 and b"--idle-timeout" in result.stdout, "--help exits 0 and lists the options")


harness.run(test_turn_taking_chat, test_chat_escape_sequences, test_echo_hostile_bytes, test_reset_mid_line,
            test_limits, test_room, test_shutdown, test_bind_failure_and_usage)
