#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""tcp_client with a large piped input sends all of it: a file of 85-byte
lines through an echo server comes back byte for byte, run after run (a lost
wake-up in the hand-over from the stdin thread once stopped the sending
midway, and the client sat idle until the server's idle timeout, then
exited 0). And when the server closes before the input was all sent, the
client says how much was not, and exits 1."""

import os
import socket
import subprocess
import tempfile
import threading

from faults import check, harness, run, sanitizer, start_server, stop

# Under a sanitizer the programs run 5-15 times slower: fewer runs there.
RUNS = int(os.environ.get("CORONET_STRESS_RUNS", "3" if sanitizer("tcp_client") else "10"))
SIZE = int(os.environ.get("CORONET_STRESS_BYTES", str(32 * 1000 * 1000)))
LINE = b"y" * 84 + b"\n"


def big_input(directory):
    path = os.path.join(directory, "in.txt")
    with open(path, "wb") as f:
        f.write(LINE * (SIZE // len(LINE)))
    return path


def test_every_byte_comes_back():
    # A stall would last until the idle timeout: the server then closes, and
    # the client reports what it did not send.
    server, port, _, err = start_server("tcp_server", "--mode", "echo", "--idle-timeout", "20")
    try:
        with tempfile.TemporaryDirectory() as work:
            path = big_input(work)
            expected = os.path.getsize(path)
            complete = 0
            for attempt in range(RUNS):
                with open(path, "rb") as source, open(os.path.join(work, "out.txt"), "wb") as sink:
                    client = harness.start("tcp_client", "127.0.0.1", port, stdin=source, stdout=sink)
                    _, client_err = client.communicate(timeout=240)
                with open(os.path.join(work, "out.txt"), "rb") as sink, open(path, "rb") as source:
                    same = sink.read() == source.read()
                if client.returncode == 0 and same:
                    complete += 1
                else:
                    print(f"  run {attempt + 1}: exit {client.returncode}, "
                          f"{os.path.getsize(os.path.join(work, 'out.txt'))} of {expected} bytes back; "
                          f"stderr: {harness.said(client_err).strip()}")
            check(complete == RUNS, f"{complete} of {RUNS} runs: {expected} bytes piped through the echo "
                                    "server came back byte for byte, exit 0")
    finally:
        stop(server)


def short_lived_server(listener, keep, client_gone):
    """Takes `keep` bytes from the one client it accepts, then closes its
    sending side (as tcp_server does at its idle timeout) and reads nothing
    more until the client has gone: the client cannot send the rest of its
    input (a server that went on reading could take all of it before the
    client saw the close, and the client would rightly call that a success)."""
    conn, _ = listener.accept()
    got = 0
    while got < keep:
        chunk = conn.recv(65536)
        if not chunk:
            break
        got += len(chunk)
    conn.shutdown(socket.SHUT_WR)
    client_gone.wait(180)
    conn.close()


def test_server_closes_before_the_input_ends():
    with socket.socket() as listener, tempfile.TemporaryDirectory() as work:
        # A fixed receive buffer (accepted sockets inherit it): on loopback
        # the kernel would otherwise grow it up to net.ipv4.tcp_rmem's
        # maximum (32 MiB on Debian), enough to take the whole input unread.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 * 1024)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client_gone = threading.Event()
        server = threading.Thread(target=short_lived_server, args=(listener, 100 * 1000, client_gone), daemon=True)
        server.start()
        with open(big_input(work), "rb") as source:
            client = harness.start("tcp_client", "127.0.0.1", port, stdin=source, stdout=subprocess.DEVNULL)
            try:
                _, client_err = client.communicate(timeout=120)
            finally:
                client_gone.set()
        server.join(10)
        said = harness.said(client_err)
        check(client.returncode == 1, f"the client exits 1 when its input was not all sent (exit {client.returncode})")
        check("before the input was all sent" in said and "bytes sent" in said, f"and says how much: {said.strip()!r}")


def test_server_closes_after_the_input_ended():
    """The input had ended and was sent: the server's close is the normal end."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = harness.start("tcp_client", "127.0.0.1", port)
        conn, _ = listener.accept()
        client.stdin.write(b"one line\n")
        client.stdin.close()
        got = harness.recv_until(conn, b"one line\n")
        conn.settimeout(10)
        rest = conn.recv(100)  # the client's half-close
        conn.close()
        client.wait(timeout=30)
        said = harness.said(client.stderr.read())
        check(got == b"one line\n" and rest == b"", "the server got the line and the client's end of input")
        check(client.returncode == 0, f"exit 0 (exit {client.returncode}; {said.strip()!r})")


run(test_every_byte_comes_back, test_server_closes_before_the_input_ends, test_server_closes_after_the_input_ended)
