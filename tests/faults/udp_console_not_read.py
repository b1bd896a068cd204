#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""udp_server whose console does not keep up answers every datagram anyway,
at once: its stdout a pipe nobody reads (one 65,507-byte datagram of binary
is about 200 KB of escaped text, three times what the pipe holds), or a
reader that reads slowly. What the console cannot take is counted and said
once it reads again; SIGTERM still ends the server with exit 0 within a
second. Before, the server blocked in write() and answered nothing more.
Each datagram here is sent again until answered, so none may go missing."""

import random
import socket
import subprocess
import threading
import time

from faults import Output, check, harness, run, tally_console, wait_accounted



def exchange(sock, port, payload, tries=5):
    """Sends `payload` until its echo comes back; the echo (None if none did)."""
    for _ in range(tries):
        sock.sendto(payload, ("127.0.0.1", port))
        try:
            reply, _ = sock.recvfrom(65536)
            return reply
        except TimeoutError:
            continue
    return None


def flood(port, count, size, seed):
    rng = random.Random(seed)
    exact = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(2)
        for _ in range(count):
            payload = rng.randbytes(size)
            if exchange(sock, port, payload) == payload:
                exact += 1
        return exact, sock.getsockname()[1]


def stop_within_a_second(server, err):
    started = time.monotonic()
    code = harness.signal_and_wait(server)
    took = time.monotonic() - started
    check(code == 0, f"SIGTERM: exit 0 (exit {code})")
    allowance = 1.0 + (harness.LOST_SIGNAL_WAIT if harness.UNDER_TSAN else 0)
    if not check(code is not None and took < allowance, f"SIGTERM: exit within a second ({took:.2f} s)"):
        print(err.text()[-2000:])


def test_stdout_never_read():
    server, port = harness.start_server("udp_server", stdout=subprocess.PIPE)  # never read
    err = Output(server.stderr)
    try:
        exact, _ = flood(port, 100, 65507, seed=1)
        check(exact == 100, f"{exact} of 100 datagrams of 65,507 binary bytes echoed exactly, stdout unread")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(2)
            check(exchange(sock, port, b"hi\n") == b"hi\n", "a line sent after the flood is echoed")
        stop_within_a_second(server, err)
    finally:
        harness.stop(server)


def test_slow_reader():
    server, port = harness.start_server("udp_server", stdout=subprocess.PIPE)
    err = Output(server.stderr)
    printed = bytearray()
    lock = threading.Lock()

    def read_slowly():
        while True:
            chunk = server.stdout.read1(4096)
            if not chunk:
                return
            with lock:
                printed.extend(chunk)
            time.sleep(0.005)

    reader = threading.Thread(target=read_slowly, daemon=True)
    reader.start()
    try:
        count = 300
        exact, sender_port = flood(port, count, 9000, seed=2)
        check(exact == count, f"{exact} of {count} datagrams of 9,000 binary bytes echoed exactly, stdout read slowly")

        said = b"(127.0.0.1 %d) said: " % sender_port

        def accounted():
            with lock:
                now = bytes(printed)
            return tally_console(now, lambda line: line.startswith(said))

        shown, missed = wait_accounted(accounted, count)
        if not check(shown + missed == count, f"each datagram is shown on the console or counted as not shown: "
                                              f"{shown} shown + {missed} counted = {shown + missed} of {count}"):
            with lock:
                print(f"  the console got {len(printed)} bytes, from {bytes(printed[:300])!r} "
                      f"to {bytes(printed[-300:])!r}; the reader is {'alive' if reader.is_alive() else 'gone'}")
            print(f"  the server's stderr: {err.text()[-1000:]!r}")
            import fcntl, termios, array, os, glob  # what the server's threads wait in, what its stdout is
            unread = array.array("i", [0])
            fcntl.ioctl(server.stdout.fileno(), termios.FIONREAD, unread)
            print(f"  unread in the pipe: {unread[0]} bytes; the server's fd 1: "
                  f"{open(f'/proc/{server.pid}/fdinfo/1').read().split()!r}")
            for task in glob.glob(f"/proc/{server.pid}/task/*"):
                try:
                    print(f"  thread {os.path.basename(task)}: {open(task + '/comm').read().strip()} "
                          f"waits in {open(task + '/wchan').read()!r}, {open(task + '/stat').read().split()[2]}")
                except OSError:
                    pass
        check(missed > 0, "the slow console could not take them all (else this test tests nothing)")
        stop_within_a_second(server, err)
    finally:
        harness.stop(server)


run(test_stdout_never_read, test_slow_reader)
