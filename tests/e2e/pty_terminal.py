# SPDX-License-Identifier: BSL-1.0
"""A pseudo-terminal for the end-to-end tests: tcp_client run on one of its
own (Terminal), and what a VT100-like terminal would show of what it writes
(Screen). Used by tcp_client_terminal.py."""

import os
import pty
import re
import select
import signal
import struct
import termios
import time

import fcntl

import harness

WAIT = 60 if harness.UNDER_TSAN else 20  # seconds for anything awaited; never a sleep
ROWS, COLUMNS = 24, 80
CSI = re.compile(rb"\x1b\[([0-9;?]*)([@-~])")


class Screen:
    """What a VT100-like terminal shows for the bytes written to it: the
    printable characters, CR, LF, BS and the CSI sequences libedit uses to
    move the cursor and erase (A B C D G K J); any other sequence is ignored."""

    def __init__(self):
        self.rows = [[" "] * COLUMNS for _ in range(ROWS)]
        self.row = self.col = 0

    def newline(self):
        self.row += 1
        if self.row == ROWS:
            self.rows.pop(0)
            self.rows.append([" "] * COLUMNS)
            self.row = ROWS - 1

    def csi(self, params, final):
        numbers = [int(p) if p.isdigit() else 0 for p in params.split(b";")] if params else [0]
        n = max(numbers[0], 1)
        if final == b"A":
            self.row = max(self.row - n, 0)
        elif final == b"B":
            self.row = min(self.row + n, ROWS - 1)
        elif final == b"C":
            self.col = min(self.col + n, COLUMNS - 1)
        elif final == b"D":
            self.col = max(self.col - n, 0)
        elif final == b"G":
            self.col = min(n - 1, COLUMNS - 1)
        elif final == b"K":
            self.rows[self.row][self.col:] = [" "] * (COLUMNS - self.col)
        elif final == b"J":
            self.rows[self.row][self.col:] = [" "] * (COLUMNS - self.col)
            for r in range(self.row + 1, ROWS):
                self.rows[r] = [" "] * COLUMNS

    def feed(self, data):
        i = 0
        while i < len(data):
            found = CSI.match(data, i)
            if found:
                self.csi(found.group(1), found.group(2))
                i = found.end()
                continue
            byte = data[i]
            i += 1
            if byte == 0x0D:
                self.col = 0
            elif byte == 0x0A:
                self.newline()
            elif byte == 0x08:
                self.col = max(self.col - 1, 0)
            elif byte == 0x1B or byte < 0x20:
                continue
            else:
                if self.col == COLUMNS:
                    self.col = 0
                    self.newline()
                self.rows[self.row][self.col] = chr(byte) if byte < 0x80 else "?"
                self.col += 1

    def lines(self):
        return ["".join(r).rstrip() for r in self.rows]

    def cursor_line(self):
        return "".join(self.rows[self.row]).rstrip()


class Terminal:
    """tcp_client on a pseudo-terminal of its own (its controlling terminal,
    so that Ctrl-C raises SIGINT as at a real one)."""

    def __init__(self, *args):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            command = harness.program("tcp_client", *args)
            os.execve(command[0], command, dict(os.environ, TERM="xterm"))
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.screen = Screen()
        self.raw = b""
        self.code = None

    def type(self, keys):
        os.write(self.fd, keys)

    def wait_for(self, condition, timeout=WAIT):
        """Reads what the client writes until `condition(screen)` holds; True if it did."""
        deadline = time.monotonic() + timeout
        while not condition(self.screen):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                return False
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # the client has gone and the terminal with it
                return condition(self.screen)
            if not data:
                return condition(self.screen)
            self.raw += data
            self.screen.feed(data)
        return True

    def cooked(self):
        """Whether the terminal is in its cooked mode (line editing by the kernel, echo)."""
        flags = termios.tcgetattr(self.fd)[3]
        return bool(flags & termios.ICANON) and bool(flags & termios.ECHO)

    def wait_exit(self, timeout=WAIT):
        """The exit code, or None if the client still runs after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.code = os.waitstatus_to_exitcode(status)
                return self.code
            self.wait_for(lambda s: False, timeout=0.05)  # drains the terminal meanwhile
        return None

    def close(self):
        if self.code is None and self.wait_exit(0) is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)
