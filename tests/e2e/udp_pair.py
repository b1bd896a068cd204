# SPDX-License-Identifier: BSL-1.0
"""udp_client and udp_server against each other, as a user runs them: echo,
--no-reply with resends, --no-wait, 'q', nobody listening, a port already
taken, usage errors and SIGTERM. Runs under Wine for the MinGW build too.
UDP may drop datagrams: see udp_checks.py for what each check may expect."""

import signal
import socket
import subprocess
import tempfile
import time

import harness
from harness import check
from udp_checks import exchange, is_subsequence, read_until, runs


def client(port, text, *args, timeout=30):
    return subprocess.run(harness.program("udp_client", "127.0.0.1", port, *args),
                          input=text.encode(), capture_output=True, timeout=timeout)


def stop_and_read(server):
    code = harness.stop(server)
    return code, server.stdout.read().decode(errors="replace")


def test_echo():
    server, port = harness.start_server("udp_server")
    result = client(port, "one\ntwo\n\nlast without newline")
    check(result.returncode == 0, f"client exits 0 when every line is answered ({result.returncode})")
    check(result.stdout == b"one\ntwo\n\nlast without newline\n", f"echoes printed bare in a pipe: {result.stdout!r}")
    check(harness.said(result.stderr) == "", f"nothing on stderr: {result.stderr!r}")
    code, printed = stop_and_read(server)
    lines = printed.splitlines()
    # The client sends a line again when its echo is late or lost: the server
    # prints each copy that arrives, at most the client's 3 tries.
    said = runs(line.split(") said: ", 1)[-1] for line in lines)
    check([text for text, _ in said] == ["one", "two", "", "last without newline"] and
          all(copies <= 3 for _, copies in said), f"server prints one line per datagram: {lines}")
    check(all(line.startswith("(127.0.0.1 ") for line in lines), "in the seed's format")


def test_stdin_from_a_file():
    server, port = harness.start_server("udp_server")
    with tempfile.TemporaryFile() as lines:
        lines.write(b"from\na file\n")
        lines.seek(0)
        result = subprocess.run(harness.program("udp_client", "127.0.0.1", port), stdin=lines,
                                capture_output=True, timeout=30)
    check(result.returncode == 0 and result.stdout == b"from\na file\n",
          f"lines from a regular file are sent and answered: {result.stdout!r}")
    harness.stop(server)


def test_prompt_output_and_vanished_senders():
    server, port = harness.start_server("udp_server")
    try:
        # Senders that are gone before their echo: on Windows the ICMP that
        # follows would fail the server's next receive unless switched off.
        for _ in range(3):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as gone:
                gone.sendto(b"gone", ("127.0.0.1", port))
        time.sleep(0.2)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            reply, sends = exchange(peer, b"prompt", ("127.0.0.1", port))
            check(reply == b"prompt", "the server still answers after senders vanished")
        # The server's stdout is a pipe, and it is still running: the lines
        # must arrive now, not when its buffer fills or it exits.
        printed = read_until(server.stdout, lambda data: b") said: prompt" in data)
        said = [line.split(b") said: ", 1)[-1] for line in printed.splitlines()]
        check(said.count(b"prompt") >= 1 and said.count(b"gone") <= 3 and
              len(said) - said.count(b"gone") <= sends and set(said) <= {b"gone", b"prompt"},
              f"printed lines reach a pipe while the server waits: {printed!r}")
        check(server.poll() is None, "the server is still running")
    finally:
        harness.stop(server)
    check("error" not in harness.said(server.stderr.read()), "no receive error reported")


def test_lines_too_long():
    server, port = harness.start_server("udp_server")
    # Wine (not Windows) never delivers a datagram over about 65,400 bytes to
    # a program: its receive stalls. The largest exchange there is smaller.
    largest = 65000 if harness.emulator() else 65507
    text = "x" * 65508 + "\n" + "y" * 70000 + "\n" + "z" * largest + "\nafter\n"
    result = client(port, text)
    check(result.returncode == 1, f"a line not sent makes exit 1 ({result.returncode})")
    check(harness.said(result.stderr) == "error: a line of 65508 bytes does not fit in one datagram (at most 65507), "
          "not sent\nerror: line longer than 65536 bytes, not sent\n", f"each said clearly: {result.stderr[:300]!r}")
    check(result.stdout == b"z" * largest + b"\nafter\n", "the largest datagram and the next line still go through")
    harness.stop(server)


def test_no_reply_and_retries():
    server, port = harness.start_server("udp_server", "--no-reply")
    started = time.monotonic()
    result = client(port, "hello?\n", "--timeout", "0.2", "--retries", "1")
    check(result.returncode == 1, f"client exits 1 when a line goes unanswered ({result.returncode})")
    check(harness.said(result.stderr) == f"no reply from 127.0.0.1:{port} after 2 tries\n",
          f"says so in one line: {result.stderr!r}")
    check(time.monotonic() - started < 10, "gives up after its tries")
    code, printed = stop_and_read(server)
    lines = printed.splitlines()
    check(1 <= len(lines) <= 2 and all(line.endswith(") said: hello?") for line in lines),
          f"the server printed each of the 2 tries that arrived: {printed!r}")


def test_no_wait_and_quit():
    server, port = harness.start_server("udp_server")
    result = client(port, "a\nb\nq\nnot sent\n", "--no-wait")
    check(result.returncode == 0, f"--no-wait exits 0 ({result.returncode})")
    check(result.stdout == b"", "--no-wait prints nothing")
    # Sent without waiting, so any of them may be lost (under Wine both once
    # were): the lines that arrive are some of a and b, in order, and never q
    # or after. An exchange after them shows the server has handled every
    # datagram that came before it.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        reply, _ = exchange(peer, b"after the client", ("127.0.0.1", port))
    code, printed = stop_and_read(server)
    said = [line.split(" said: ", 1)[1] for line in printed.splitlines()]
    said = [text for text in said if text != "after the client"]
    check(reply is not None and is_subsequence(said, ["a", "b"]),
          f"lines up to 'q' arrive, 'q' and after do not: {said}")


def test_nobody_listening():
    port = harness.free_port(socket.SOCK_DGRAM)
    # Wine hears the ICMP only when the line is sent again, not while waiting
    # for the echo as Linux and Windows do: there the answer takes one timeout.
    timeout = 2 if harness.emulator() else 5
    started = time.monotonic()
    result = client(port, "anyone?\n", "--timeout", timeout, "--retries", 5)
    elapsed = time.monotonic() - started
    check(result.returncode == 1, f"exit 1 when nobody listens ({result.returncode})")
    check(harness.said(result.stderr) == f"no server at 127.0.0.1:{port} (connection refused)\n",
          f"says who did not answer and why: {result.stderr!r}")
    if harness.emulator():
        check(elapsed < 5 * timeout, f"at the first resend, not after every try ({elapsed:.2f} s)")
    else:
        check(elapsed < timeout - 0.5, f"within the timeout ({elapsed:.2f} s of {timeout} s)")


def test_port_taken():
    server, port = harness.start_server("udp_server")
    second = subprocess.run(harness.program("udp_server", "--port", port), capture_output=True, timeout=30)
    check(second.returncode == 1, f"a taken port exits 1 ({second.returncode})")
    err = harness.said(second.stderr)
    check(err.startswith(f"error: cannot listen on 127.0.0.1:{port} (udp): ") and err.count("\n") == 1,
          f"in one clear line: {err!r}")
    harness.stop(server)


def test_usage():
    for name, args in (("udp_client", ["--retries", "x"]), ("udp_client", ["--bogus"]),
                       ("udp_client", ["--timeout", "0"]), ("udp_server", ["--port", "70000"]),
                       ("udp_server", ["extra"])):
        result = subprocess.run(harness.program(name, *args), capture_output=True, timeout=30,
                                stdin=subprocess.DEVNULL)
        check(result.returncode == 2, f"{name} {' '.join(args)} is a usage error, exit 2 ({result.returncode})")
    for name in ("udp_client", "udp_server"):
        version = subprocess.run(harness.program(name, "--version"), capture_output=True, timeout=30)
        check(version.returncode == 0 and version.stdout.decode().startswith(name + " "),
              f"{name} --version: {version.stdout!r}")
        usage = subprocess.run(harness.program(name, "--help"), capture_output=True, timeout=30)
        check(usage.returncode == 0 and b"--verbose" in usage.stdout, f"{name} --help exits 0")


def test_sigterm():
    if harness.emulator():
        print("skipped: signals do not reach a program under an emulator the same way")
        return
    for signal_name in ("SIGTERM", "SIGINT"):
        server, port = harness.start_server("udp_server")
        client(port, "x\n")
        started = time.monotonic()
        server.send_signal(getattr(signal, signal_name))
        try:
            code = server.wait(1.5)
        except subprocess.TimeoutExpired:
            code = None
        harness.stop(server)
        check(code == 0 and time.monotonic() - started < 1.5, f"{signal_name}: exit 0 within a second ({code})")


if __name__ == "__main__":
    harness.run(test_echo, test_stdin_from_a_file, test_prompt_output_and_vanished_senders, test_lines_too_long,
                test_no_reply_and_retries, test_no_wait_and_quit, test_nobody_listening, test_port_taken,
                test_usage, test_sigterm)
