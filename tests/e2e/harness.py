# SPDX-License-Identifier: BSL-1.0
"""Shared helpers for coronet's end-to-end tests.

Each test script runs the built executables (under an emulator such as Wine
for a cross build) and real peers on loopback, prints one line per check and
ends with 'N passed, N failed'. Exit 0 when all passed, 1 when any failed,
77 when a peer the script needs is not installed (ctest reports it skipped).
"""

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback

SKIP = 77
LISTENING = re.compile(r"listening on (\S+):(\d+)")

_args = None


def options():
    global _args
    if _args is None:
        parser = argparse.ArgumentParser()
        parser.add_argument("--bin", required=True, help="folder of the built programs")
        _args, _ = parser.parse_known_args()
    return _args


def emulator():
    """The command that runs a built program ([] natively, ['wine'] for MinGW)."""
    value = os.environ.get("CORONET_EMULATOR", "")
    return value.split(";") if value else []


def program(name, *args):
    """The command line for one of coronet's programs."""
    suffix = os.environ.get("CORONET_EXE_SUFFIX", "")
    return emulator() + [os.path.join(options().bin, name + suffix)] + [str(a) for a in args]


def skip_under_emulator(why):
    """Ends the script as skipped (exit 77), saying `why`, when the programs
    run under an emulator (Wine for the mingw build)."""
    if emulator():
        print(f"skipped: {why}")
        raise SystemExit(SKIP)


def need(*tools):
    """Skips the whole script (exit 77) when a peer program is missing."""
    for tool in tools:
        if shutil.which(tool) is None:
            print(f"skipped: {tool} is not installed (scripts/setup installs it)")
            sys.exit(SKIP)


def start(name, *args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, **kwargs):
    return subprocess.Popen(program(name, *args), stdin=stdin, stdout=stdout,
                            stderr=subprocess.PIPE, **kwargs)


def start_server(name, *args, timeout=30, **kwargs):
    """Starts a coronet server on an ephemeral loopback port (unless args say
    otherwise); returns (process, port) once it has said where it listens."""
    if "--port" not in args:
        args = args + ("--port", "0")
    proc = start(name, *args, **kwargs)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline().decode(errors="replace")
        if not line:
            raise RuntimeError(f"{name} ended before listening (exit {proc.wait()})")
        found = LISTENING.search(line)
        if found:
            return proc, int(found.group(2))
    proc.kill()
    raise RuntimeError(f"{name} did not say where it listens within {timeout}s")


@contextlib.contextmanager
def running_server(name, *args, **kwargs):
    """start_server() for a `with` block: yields (process, port) and stops
    the server when the block ends, however it ends."""
    proc, port = start_server(name, *args, **kwargs)
    try:
        yield proc, port
    finally:
        stop(proc)


# The ThreadSanitizer runtime of the tsan preset (clang 14) now and then
# loses a signal: the program waits in epoll_wait with no signal pending, and
# a second SIGTERM ends it with exit 0. udp_server did so in 3 of 4,000
# starts under TSan, and never in 10,000 starts of the gcc build. Under TSan
# only, a signal that has not ended the program in LOST_SIGNAL_WAIT seconds
# is sent once more, and said so on stderr.
UNDER_TSAN = "TSAN_OPTIONS" in os.environ
LOST_SIGNAL_WAIT = 2


def signal_and_wait(proc, sig=signal.SIGTERM, timeout=5):
    """Sends `sig` and returns the exit code, or None if the process is still
    running `timeout` seconds later."""
    proc.send_signal(sig)
    if UNDER_TSAN:
        try:
            return proc.wait(LOST_SIGNAL_WAIT)
        except subprocess.TimeoutExpired:
            print(f"harness: no exit {LOST_SIGNAL_WAIT} s after {signal.Signals(sig).name} under "
                  "ThreadSanitizer, which can lose a signal: sending it again", file=sys.stderr)
            proc.send_signal(sig)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        return None


def stop(proc, timeout=5):
    """Ends a process (SIGTERM, then SIGKILL) and returns its exit code."""
    if proc.poll() is None and signal_and_wait(proc, signal.SIGTERM, timeout) is None:
        proc.kill()
        proc.wait()
    return proc.returncode


# Wine's own diagnostics on stderr, before or between a program's lines.
_EMULATOR_NOISE = re.compile(r'^([0-9a-f]{4}:(err|fixme|warn):|it looks like wine|multiarch needs|execute "dpkg|apt-get install)')


def said(stderr):
    """What a program itself wrote on stderr (bytes), as text with Windows line
    endings and the emulator's diagnostics taken out."""
    lines = stderr.decode(errors="replace").replace("\r\n", "\n").splitlines(keepends=True)
    return "".join(line for line in lines if not _EMULATOR_NOISE.match(line))


def connect(port, host="127.0.0.1", timeout=10):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect((host, port))
    return sock


def recv_until(sock, marker, limit=1 << 24):
    """Reads from a socket until `marker` (bytes) has arrived; returns all read."""
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            break
    return data


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_checks = {"passed": 0, "failed": 0}


def check(condition, what):
    if condition:
        _checks["passed"] += 1
        print(f"ok: {what}")
    else:
        _checks["failed"] += 1
        print(f"FAILED: {what}")
    return condition


def check_printed_back(result, sent, exit_what, printed_what):
    """A client run (subprocess.run) that had `sent` on its stdin: it exits 0
    and prints back exactly `sent`; the checks say `exit_what`, `printed_what`."""
    check(result.returncode == 0, exit_what)
    check(result.stdout == sent, printed_what)


def run(*tests):
    """Runs each test function; an exception fails that test. Exits with the
    summary line and the right code."""
    options()
    for test in tests:
        print(f"--- {test.__name__}")
        try:
            test()
        except Exception:  # a broken test is a failed test, reported in full
            _checks["failed"] += 1
            print(f"FAILED: {test.__name__} raised")
            traceback.print_exc(file=sys.stdout)
    print(f"{_checks['passed']} passed, {_checks['failed']} failed")
    sys.exit(1 if _checks["failed"] else 0)
