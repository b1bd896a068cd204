#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""tcp_client against python3 servers written like the seed's: an echo
server, the seed's turn-taking server, and a server killed while the client
still waits on its open stdin. Runs under Wine too (the mingw preset)."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import harness
from harness import check

# A server in its own process, so that the test can kill it: echoes until the
# client closes, after printing its port.
ECHO_SERVER = """
import socket
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1)
print(listener.getsockname()[1], flush=True)
conn, addr = listener.accept()
while True:
    data = conn.recv(1024)
    if not data:
        break
    conn.sendall(data)
conn.close()
"""


def listen():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(60)
    return listener


def serve_echo(listener):
    conn, _ = listener.accept()
    with conn:
        while True:
            data = conn.recv(1024)
            if not data:
                break
            conn.sendall(data)


def run_against(server, stdin, *args):
    """Runs the client to its end against `server` (a function run on a thread
    with the listening socket); returns the completed process."""
    listener = listen()
    port = listener.getsockname()[1]
    thread = threading.Thread(target=server, args=(listener,), daemon=True)
    thread.start()
    try:
        kind = "input" if isinstance(stdin, bytes) else "stdin"
        return subprocess.run(harness.program("tcp_client", "127.0.0.1", port, *args),
                              capture_output=True, timeout=60, **{kind: stdin})
    finally:
        thread.join(10)
        listener.close()


def kill_after(proc, seconds):
    """A watchdog, so that a broken client cannot hang the test."""
    timer = threading.Timer(seconds, proc.kill)
    timer.daemon = True
    timer.start()
    return timer


def test_piped_stdin_against_echo():
    result = run_against(serve_echo, b"a\nb\n")
    check(result.returncode == 0, f"exit 0 (got {result.returncode}, stderr {result.stderr!r})")
    check(result.stdout == b"a\nb\n", f"stdout is exactly the echoed lines (got {result.stdout!r})")


def test_regular_file_as_stdin():
    lines = b"".join(b"line %d of a file\n" % i for i in range(2000))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "lines.txt")
        with open(path, "wb") as f:
            f.write(lines)
        with open(path, "rb") as f:
            result = run_against(serve_echo, f)
    check(result.returncode == 0, f"tcp_client < file: exit 0 (got {result.returncode})")
    check(result.stdout == lines, f"tcp_client < file: every line came back ({len(result.stdout)} of {len(lines)} bytes)")


def test_terminal_output():
    if harness.emulator() or os.name != "posix":
        print("skipped: needs a POSIX pseudo-terminal")
        return
    import pty
    screen, terminal = pty.openpty()
    try:
        listener = listen()
        thread = threading.Thread(target=serve_echo, args=(listener,), daemon=True)
        thread.start()
        result = subprocess.run(harness.program("tcp_client", "127.0.0.1", listener.getsockname()[1]),
                                input=b"hello\n\x1b[2J\n", stdout=terminal, stderr=subprocess.PIPE, timeout=60)
        thread.join(10)
        listener.close()
        os.close(terminal)
        terminal = None
        shown = b""
        while True:
            try:
                chunk = os.read(screen, 4096)
            except OSError:  # Linux: EIO once the terminal's last writer is gone
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if terminal is not None:
            os.close(terminal)
        os.close(screen)
    check(result.returncode == 0, f"terminal: exit 0 (got {result.returncode})")
    check(shown.startswith(b"SEND (q or Q to quit): "), f"terminal: the prompt (got {shown!r})")
    check(b"RECEIVED: hello" in shown, "terminal: a received line is labelled")
    check(b"RECEIVED: \\x1b[2J" in shown and b"\x1b" not in shown,
          "terminal: an escape sequence from the server is shown, not obeyed")


def test_seed_turn_taking_server():
    # The seed's server: it waits for the client's line, then answers with the
    # line its operator types (scripted here); its 'q' ends the conversation.
    heard = []

    def seed_server(listener):
        conn, _ = listener.accept()
        with conn, conn.makefile("rb") as lines:
            for reply in (b"hi there", b"q"):
                heard.append(lines.readline())
                conn.sendall(reply + b"\n")

    listener = listen()
    port = listener.getsockname()[1]
    thread = threading.Thread(target=seed_server, args=(listener,), daemon=True)
    thread.start()
    client = harness.start("tcp_client", "127.0.0.1", port)
    watchdog = kill_after(client, 60)
    client.stdin.write(b"hello\n")
    client.stdin.flush()
    answer = client.stdout.readline()
    check(answer == b"hi there\n", f"the server's answer is printed (got {answer!r})")
    client.stdin.write(b"bye\n")
    client.stdin.flush()
    # The client's stdin stays open: the server's q alone ends it.
    code = client.wait(30)
    watchdog.cancel()
    stderr = client.stderr.read().decode(errors="replace")
    client.stdin.close()
    thread.join(10)
    listener.close()
    check(code == 0, f"the server's q ends the client with exit 0 (got {code})")
    check("sent q" in stderr, f"with a notice on stderr (got {stderr!r})")
    check(heard == [b"hello\n", b"bye\n"], f"the server heard both lines (got {heard!r})")


def test_server_killed_while_stdin_open():
    server = subprocess.Popen([sys.executable, "-c", ECHO_SERVER], stdout=subprocess.PIPE)
    port = int(server.stdout.readline())
    client = harness.start("tcp_client", "127.0.0.1", port)
    watchdog = kill_after(client, 60)
    try:
        client.stdin.write(b"ping\n")
        client.stdin.flush()
        check(client.stdout.readline() == b"ping\n", "connected: the echo came back")
        server.kill()
        server.wait()
        killed = time.monotonic()
        code = client.wait(30)  # stdin is still open and nothing more is typed
        elapsed = time.monotonic() - killed
        stderr = client.stderr.read().decode(errors="replace")
        check(elapsed < 2, f"the client ended within 2 s of the kill ({elapsed:.2f} s)")
        check(code == 0, f"exit 0 on the server's close (got {code})")
        check("closed" in stderr or "lost" in stderr, f"a line on stderr says so (got {stderr!r})")
    finally:
        watchdog.cancel()
        client.stdin.close()
        harness.stop(client)
        harness.stop(server)


def test_interrupted():
    if harness.emulator() or os.name != "posix":
        print("skipped: needs POSIX signals")
        return
    server = subprocess.Popen([sys.executable, "-c", ECHO_SERVER], stdout=subprocess.PIPE)
    port = int(server.stdout.readline())
    client = harness.start("tcp_client", "127.0.0.1", port)
    try:
        client.stdin.write(b"ping\n")
        client.stdin.flush()
        check(client.stdout.readline() == b"ping\n", "connected: the echo came back")
        client.send_signal(signal.SIGINT)
        code = client.wait(10)
        check(code == 130, f"Ctrl-C ends the client with exit 130 (got {code})")
    finally:
        client.stdin.close()
        harness.stop(client)
        harness.stop(server)


def test_refused():
    port = harness.free_port()
    result = subprocess.run(harness.program("tcp_client", "127.0.0.1", port), input=b"",
                            capture_output=True, timeout=60)
    stderr = result.stderr.decode(errors="replace")
    check(result.returncode == 1, f"refused: exit 1 (got {result.returncode})")
    # Under Wine, Wine's own diagnostics may come first: only tcp_client's lines count.
    ours = [line for line in stderr.splitlines() if harness.emulator() == [] or "connect" in line]
    check(len(ours) == 1 and f"127.0.0.1:{port}" in ours[0] and "refused" in ours[0].lower(),
          f"refused: one line naming the target and the reason (got {stderr!r})")
    check(result.stdout == b"", "refused: nothing on stdout")


def test_usage():
    result = subprocess.run(harness.program("tcp_client", "--no-such-flag"), capture_output=True, timeout=60)
    check(result.returncode == 2, f"a usage error exits 2 (got {result.returncode})")
    result = subprocess.run(harness.program("tcp_client", "--version"), capture_output=True, timeout=60)
    check(result.returncode == 0 and result.stdout.startswith(b"tcp_client "),
          f"--version prints the name and version (got {result.stdout!r})")


if __name__ == "__main__":
    harness.run(test_piped_stdin_against_echo, test_regular_file_as_stdin, test_terminal_output,
                test_seed_turn_taking_server,
                test_server_killed_while_stdin_open, test_interrupted, test_refused, test_usage)
