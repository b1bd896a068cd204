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
import threading

import harness
from harness import check
from pty_terminal import WAIT, Terminal

parser = argparse.ArgumentParser()
parser.add_argument("--line-editor", default="ON")
if parser.parse_known_args()[0].line_editor.upper() in ("OFF", "FALSE", "0", ""):
    print("skipped: tcp_client was built without libedit (the plain console at a terminal too)")
    raise SystemExit(harness.SKIP)
harness.skip_under_emulator("a pseudo-terminal is a POSIX thing; Windows keeps the plain console")

PROMPT = "SEND (q or Q to quit): "
RUNS = int(os.environ.get("CORONET_TERMINAL_RUNS", "20"))


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
