# SPDX-License-Identifier: BSL-1.0
"""udp_server under abuse: thousands of random datagrams (a tag, then 0 to
9,000 random bytes: garbage, NULs, invalid UTF-8, terminal escapes) from many
senders, some of which vanish before their echo. Every echo must be exact, the
server must keep answering, print one terminal-safe line per datagram that
arrives, and still stop with exit 0 within a second of SIGTERM in the middle of
a flood. UDP may drop datagrams: see udp_checks.py for what each check may
expect. A datagram's tag ("0042 ", printed as it is) tells its line and its
echo apart from the others'."""

import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

import harness
from harness import check
from udp_checks import PATIENCE, TRIES, exchange

DATAGRAMS = 3000
WINDOW = 8  # datagrams in flight at once: well inside the socket buffers
TAG = re.compile(rb"(\d{4}) ")


def test_random_datagrams_all_echoed():
    rng = random.Random(20261127)
    with tempfile.TemporaryFile() as printed:
        server, port = harness.start_server("udp_server", stdout=printed)
        target = ("127.0.0.1", port)
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sender.settimeout(PATIENCE)
        payloads = [b"%04d " % i + rng.randbytes(rng.randint(0, 9000)) for i in range(DATAGRAMS)]
        sends = [0] * DATAGRAMS
        echoed = [False] * DATAGRAMS
        inexact = vanished = 0
        for first in range(0, DATAGRAMS, WINDOW):
            window = range(first, min(first + WINDOW, DATAGRAMS))
            # The window's datagrams go out together; those whose echo does
            # not come go out again, up to TRIES times each.
            while not all(echoed[i] for i in window) and max(sends[i] for i in window) < TRIES:
                for i in window:
                    if not echoed[i]:
                        sender.sendto(payloads[i], target)
                        sends[i] += 1
                try:
                    while not all(echoed[i] for i in window):
                        reply, source = sender.recvfrom(65536)
                        tag = TAG.match(reply)
                        if not tag or int(tag.group(1)) >= DATAGRAMS or reply != payloads[int(tag.group(1))] \
                                or source != target:
                            inexact += 1
                        else:
                            echoed[int(tag.group(1))] = True
                except TimeoutError:
                    pass
            if (first + WINDOW) % 200 == 0:
                # A sender that disappears before its echo: the reply meets a closed port.
                gone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                gone.sendto(b"gone", target)
                gone.close()
                vanished += 1
        check(all(echoed) and inexact == 0,
              f"{sum(echoed)} of {DATAGRAMS} random datagrams echoed exactly, {inexact} replies not exact "
              f"({sum(sends) - DATAGRAMS} sent again)")
        reply, still_sends = exchange(sender, b"still there?", target)
        check(reply == b"still there?", "the server still answers afterwards")
        code = harness.stop(server)
        check(code == 0, f"and stops with exit 0 ({code})")
        printed.seek(0)
        lines = printed.read().split(b"\n")
        check(lines[-1] == b"", "its output ends with a whole line")
        lines = lines[:-1]
        said = [line.split(b") said: ", 1)[-1] for line in lines]
        copies = [0] * DATAGRAMS
        for text in said:
            tag = TAG.match(text)
            if tag and int(tag.group(1)) < DATAGRAMS:
                copies[int(tag.group(1))] += 1
        unsafe = [line for line in lines if any(b < 0x20 or b == 0x7F for b in line)]
        check(all(1 <= copies[i] <= sends[i] for i in range(DATAGRAMS)) and
              said.count(b"gone") <= vanished and 1 <= said.count(b"still there?") <= still_sends and
              sum(copies) + said.count(b"gone") + said.count(b"still there?") == len(lines),
              f"one line per datagram that arrived: {len(lines)} lines for {sum(sends)} random datagrams "
              f"sent ({DATAGRAMS} different), {vanished} from vanished senders and the last")
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
    harness.skip_under_emulator("the flood runs on the native builds; the Windows build is tested by udp_pair")
    harness.run(test_random_datagrams_all_echoed, test_sigterm_during_flood)
