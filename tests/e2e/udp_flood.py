"""udp_server under abuse: thousands of random datagrams (0 to 9,000 random
bytes: garbage, NULs, invalid UTF-8, terminal escapes) from many senders,
some of which vanish before their echo. Every echo must be exact, the server
must keep answering, print one terminal-safe line per datagram, and still
stop with exit 0 within a second of SIGTERM in the middle of a flood."""

import random
import signal
import socket
import subprocess
import sys
import tempfile
import time

import harness
from harness import check

DATAGRAMS = 3000
WINDOW = 8  # datagrams in flight at once: well inside the socket buffers


def test_random_datagrams_all_echoed():
    rng = random.Random(20261127)
    with tempfile.TemporaryFile() as printed:
        server, port = harness.start_server("udp_server", stdout=printed)
        target = ("127.0.0.1", port)
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sender.settimeout(5)
        exact = vanished = 0
        sent = 0
        while sent < DATAGRAMS:
            batch = [rng.randbytes(rng.randint(0, 9000)) for _ in range(min(WINDOW, DATAGRAMS - sent))]
            for payload in batch:
                sender.sendto(payload, target)
            for payload in batch:
                reply, source = sender.recvfrom(65536)
                exact += reply == payload and source == target
            sent += len(batch)
            if sent % 200 == 0:
                # A sender that disappears before its echo: the reply meets a closed port.
                gone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                gone.sendto(b"gone", target)
                gone.close()
                vanished += 1
        check(exact == DATAGRAMS, f"{exact} of {DATAGRAMS} random datagrams echoed exactly")
        sender.sendto(b"still there?", target)
        check(sender.recvfrom(65536)[0] == b"still there?", "the server still answers afterwards")
        code = harness.stop(server)
        check(code == 0, f"and stops with exit 0 ({code})")
        printed.seek(0)
        lines = printed.read().split(b"\n")
        check(lines[-1] == b"", "its output ends with a whole line")
        expected = DATAGRAMS + vanished + 1
        check(len(lines) - 1 == expected, f"one line per datagram: {len(lines) - 1} of {expected}")
        unsafe = [line for line in lines if any(b < 0x20 or b == 0x7F for b in line)]
        check(not unsafe, f"no control byte reaches the terminal ({len(unsafe)} lines had one)")


FLOODER = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
target = ("127.0.0.1", int(sys.argv[1]))
while True:
    s.sendto(b"x" * 64, target)
"""


def test_sigterm_during_flood():
    # Four flooding processes outrun the one server thread on this machine, so
    # its socket never runs empty: only the turn it gives the io_context every
    # few datagrams lets the signal in.
    server, port = harness.start_server("udp_server", stdout=subprocess.DEVNULL)
    flooders = [subprocess.Popen([sys.executable, "-c", FLOODER, str(port)]) for _ in range(4)]
    try:
        time.sleep(1)
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(1.0)
        except subprocess.TimeoutExpired:
            code = None
        elapsed = time.monotonic() - started
        check(code == 0 and elapsed <= 1.0, f"SIGTERM in a flood: exit 0 within a second ({code}, {elapsed:.2f} s)")
    finally:
        for flooder in flooders:
            harness.stop(flooder)
        harness.stop(server)


if __name__ == "__main__":
    if harness.emulator():
        print("skipped: the flood runs on the native builds; the Windows build is tested by udp_pair")
        sys.exit(harness.SKIP)
    harness.run(test_random_datagrams_all_echoed, test_sigterm_during_flood)
