#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""tcp_client at a terminal (a pseudo-terminal), against a chat server whose
operator types: a line that arrives while `half typed` is being typed shows
above it, and the prompt with `half typed` is drawn again below; Enter sends
it; up-arrow recalls it; and the terminal is given back in its cooked mode
after Ctrl-C, the operator's q, the user's q and the server's end.

Skipped (exit 77) when tcp_client was built without libedit
(--line-editor OFF): it then keeps the plain console, which erases nothing
but does not redraw either."""

import argparse
import os
import pty
import re
import select
import signal
import struct
import termios
import threading
import time

import fcntl

import harness
from harness import check

parser = argparse.ArgumentParser()
parser.add_argument("--line-editor", default="ON")
if parser.parse_known_args()[0].line_editor.upper() in ("OFF", "FALSE", "0", ""):
    print("skipped: tcp_client was built without libedit (the plain console at a terminal too)")
    raise SystemExit(harness.SKIP)
if harness.emulator():
    print("skipped: a pseudo-terminal is a POSIX thing; Windows keeps the plain console")
    raise SystemExit(harness.SKIP)

PROMPT = "SEND (q or Q to quit): "
RUNS = int(os.environ.get("CORONET_TERMINAL_RUNS", "20"))
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


class Chat:
    """tcp_server in chat mode: its operator's stdin, and the lines its
    clients send, collected from its stdout on a thread."""

    def __init__(self):
        self.proc, self.port = harness.start_server("tcp_server", "--mode", "chat")
        self.out, self.err = [], []
        self.changed = threading.Condition()
        threading.Thread(target=self.collect, args=(self.proc.stdout, self.out), daemon=True).start()
        threading.Thread(target=self.collect, args=(self.proc.stderr, self.err), daemon=True).start()

    def collect(self, pipe, lines):
        for line in pipe:
            with self.changed:
                lines.append(line.decode(errors="replace").rstrip("\n"))
                self.changed.notify_all()

    def wait_for(self, lines, condition, timeout=WAIT):
        with self.changed:
            return self.changed.wait_for(lambda: any(condition(line) for line in lines), timeout)

    def operator_types(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def stop(self):
        return harness.stop(self.proc)


def prompt_with(text):
    return lambda screen: screen.cursor_line() == (PROMPT + text).rstrip()  # the screen's lines are stripped


def a_conversation(run, ending):
    """One session; `ending` is how it ends: ctrl-c, q, operator-q or server-gone."""
    chat = Chat()
    term = Terminal("127.0.0.1", chat.port)
    try:
        ready = term.wait_for(prompt_with("")) and chat.wait_for(
            chat.err, lambda line: line.endswith(" connected"))
        check(ready, f"run {run}: the client connected and prompts")
        term.type(b"half typed")
        check(term.wait_for(prompt_with("half typed")), f"run {run}: `half typed` shows after the prompt")
        chat.operator_types(f"interrupting line {run}")
        arrived = term.wait_for(lambda s: f"RECEIVED: interrupting line {run}" in s.lines()
                                and prompt_with("half typed")(s))
        lines = term.screen.lines()
        above = arrived and lines.index(f"RECEIVED: interrupting line {run}") == term.screen.row - 1
        check(arrived and above, f"run {run}: the received line shows above the prompt, which is drawn again "
              f"with `half typed` (screen {[line for line in lines if line]!r}, raw tail {term.raw[-160:]!r})")
        term.type(b"\r")
        check(chat.wait_for(chat.out, lambda line: line.endswith("> half typed")),
              f"run {run}: Enter sends `half typed` (server printed {chat.out!r})")
        check(term.wait_for(prompt_with("")), f"run {run}: a new prompt after Enter")
        term.type(b"\x1b[A")
        check(term.wait_for(prompt_with("half typed")), f"run {run}: up-arrow recalls `half typed`")
        term.type(b"\x15")  # Ctrl-U: the recalled line is not sent
        check(term.wait_for(prompt_with("")), f"run {run}: Ctrl-U empties the line")
        if ending == "ctrl-c":
            term.type(b"\x03")
            expected = 130
        elif ending == "q":
            term.type(b"q\r")
            expected = 0
        elif ending == "operator-q":
            chat.operator_types("q")
            expected = 0
        else:
            chat.stop()
            expected = 0
        code = term.wait_exit()
        term.wait_for(lambda s: False, timeout=0.2 if code is not None else 0)
        said = "\n".join(line for line in term.screen.lines() if line)
        check(code == expected, f"run {run}: {ending} ends the client with exit {code} ({expected} wanted)")
        if ending == "ctrl-c":
            check("connection lost" not in said and "Operation canceled" not in said,
                  f"run {run}: Ctrl-C is not called a lost connection ({said[-200:]!r})")
        check(term.cooked(), f"run {run}: after {ending} the terminal is cooked again (echo, line editing)")
    finally:
        term.close()
        chat.stop()


def test_typed_text_survives_arriving_lines():
    endings = ["ctrl-c", "q", "operator-q", "server-gone"]
    for run in range(RUNS):
        a_conversation(run, endings[run % len(endings)])


harness.run(test_typed_text_survives_arriving_lines)
