# SPDX-License-Identifier: BSL-1.0
"""Helpers for coronet's fault and abuse tests (ctest label `faults`).

They build on tests/e2e/harness.py and watch a server from the outside through
Linux's /proc: its open descriptors, its sockets and its memory. Loopback only.
"""

import os
import re
import resource
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import harness  # noqa: E402  (the path is set just above)
from harness import check, connect, recv_until, run, stop  # noqa: E402,F401  (for the tests)


def thread_args():
    """`--threads N` for tcp_server when the test was given it (ctest runs
    some tests a second time with a multi-threaded server)."""
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return ("--threads", sys.argv[i + 1])
    return ()


def raise_fd_limit(wanted):
    """Raises this process's descriptor limit (children inherit it) towards
    `wanted`; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def fd_targets(pid):
    targets = []
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            targets.append(os.readlink(f"/proc/{pid}/fd/{name}"))
        except FileNotFoundError:  # closed while we looked
            pass
    return targets


def fd_count(pid):
    return len(fd_targets(pid))


def settled_fd_count(pid, quiet=0.3, timeout=5, counter=None):
    """The server's descriptor count (or `counter(pid)`) once it has stopped
    changing for `quiet` seconds: a server may still open some (signals,
    console) after it says where it listens."""
    counter = counter or fd_count
    deadline = time.monotonic() + timeout
    count = counter(pid)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = counter(pid)
        if now == count:
            return count
        count = now
    return count


def socket_count(pid):
    return sum(1 for t in fd_targets(pid) if t.startswith("socket:"))


def memory_kb(pid, field):
    """VmRSS (resident now) or VmHWM (peak resident) of a process, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def sanitizer(name):
    """'AddressSanitizer' or 'ThreadSanitizer' when a program was built with
    one, else None. Their shadow memory and quarantine of freed blocks make
    resident memory say nothing about the program's own use."""
    with open(harness.program(name)[-1], "rb") as executable:
        image = executable.read()
    if b"__asan_init" in image:
        return "AddressSanitizer"
    if b"__tsan_init" in image:
        return "ThreadSanitizer"
    return None


def wait_until(condition, timeout, interval=0.01):
    """Polls `condition` until it is true or `timeout` seconds have passed;
    returns whether it became true."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


# The console's notice of the lines it dropped while nobody read it.
NOT_SHOWN = re.compile(rb"^\((\d+) lines not shown: the console was not reading\)$")


def tally_console(printed, is_shown):
    """(shown, missed) in what a console printed: the lines `is_shown`
    accepts, and the lines its notices count as not shown."""
    lines = printed.split(b"\n")[:-1]
    shown = sum(1 for line in lines if is_shown(line))
    missed = sum(int(m.group(1)) for m in (NOT_SHOWN.match(line) for line in lines) if m)
    return shown, missed


def wait_accounted(tally, total, timeout=60):
    """Polls `tally` (it returns (shown, missed)) until shown + missed reaches
    `total` or `timeout` seconds have passed; returns the last tally."""
    deadline = time.monotonic() + timeout
    shown, missed = tally()
    while shown + missed < total and time.monotonic() < deadline:
        time.sleep(0.1)
        shown, missed = tally()
    return shown, missed


class Output:
    """Collects what a process writes to a pipe, on a thread, so that a chatty
    server never blocks on a full pipe while the test is busy elsewhere."""

    def __init__(self, pipe):
        self._pipe = pipe
        self._chunks = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self):
        while True:
            chunk = self._pipe.read1(65536) if hasattr(self._pipe, "read1") else self._pipe.read(65536)
            if not chunk:
                return
            with self._lock:
                self._chunks.append(chunk)

    def data(self):
        with self._lock:
            return b"".join(self._chunks)

    def text(self):
        return self.data().decode(errors="replace")

    def finish(self, timeout=5):
        self._thread.join(timeout)
        return self.data()


def start_server(name, *args, stdout=subprocess.PIPE, **kwargs):
    """Starts a coronet server on an ephemeral loopback port; returns
    (process, port, stdout Output or None, stderr Output)."""
    proc, port = harness.start_server(name, *args, stdout=stdout, **kwargs)
    out = Output(proc.stdout) if stdout == subprocess.PIPE else None
    err = Output(proc.stderr)
    return proc, port, out, err


def check_clean_exit(server, err, timeout=5):
    """SIGTERM ends the server with exit 0; otherwise what it said is shown."""
    code = stop(server, timeout)
    if not check(code == 0, f"the server exits 0 on SIGTERM (exit {code})"):
        print(err.finish()[-20000:].decode(errors="replace"))


def echo_works(port, payload=b"still serving\n", timeout=5):
    """One fresh connection gets one line echoed back byte for byte."""
    with harness.connect(port, timeout=timeout) as sock:
        sock.sendall(payload)
        return harness.recv_until(sock, b"\n") == payload


# What a hostile peer sends to take over the operator's terminal, and how
# coronet::terminal_safe must show it instead.
TERMINAL_ATTACKS = {
    "clear screen": (b"\x1b[2J\x1b[H", b"\\x1b[2J\\x1b[H"),
    "set title": (b"\x1b]0;owned\x07", b"\\x1b]0;owned\\x07"),
    "bell": (b"ding\x07\x07", b"ding\\x07\\x07"),
    "C1 CSI": (b"\xc2\x9b31m", b"\\u009b31m"),
    "right-to-left override": (b"abc\xe2\x80\xaetxt.exe", b"abc\\u202etxt.exe"),
    "format string": (b"{} {:>99999999} %s%n%x", b"{} {:>99999999} %s%n%x"),
}
TERMINAL_DRIVING = set(range(0x20)) - {ord("\n")} | {0x7f}


def judge_terminal_output(program, printed):
    for name, (attack, shown) in TERMINAL_ATTACKS.items():
        check(shown in printed, f"{program}: {name} shown as {shown.decode()}")
    check(not TERMINAL_DRIVING.intersection(printed), f"{program}: no control byte on stdout")
    check(b"\xc2\x9b" not in printed and b"\xe2\x80\xae" not in printed, f"{program}: no C1 or bidi control")
