"""udp_client and udp_server against each other, as a user runs them: echo,
--no-reply with resends, --no-wait, 'q', nobody listening, a port already
taken, usage errors and SIGTERM. Runs under Wine for the MinGW build too."""

import signal
import socket
import subprocess
import time

import harness
from harness import check


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
    check(result.stderr == b"", f"nothing on stderr: {result.stderr!r}")
    code, printed = stop_and_read(server)
    lines = printed.splitlines()
    check(len(lines) == 4 and lines[0].endswith(") said: one") and lines[2].endswith(") said: "),
          f"server prints one line per datagram: {lines}")
    check(lines[0].startswith("(127.0.0.1 "), "in the seed's format")


def test_no_reply_and_retries():
    server, port = harness.start_server("udp_server", "--no-reply")
    started = time.monotonic()
    result = client(port, "hello?\n", "--timeout", "0.2", "--retries", "1")
    check(result.returncode == 1, f"client exits 1 when a line goes unanswered ({result.returncode})")
    check(result.stderr.decode() == f"no reply from 127.0.0.1:{port} after 2 tries\n",
          f"says so in one line: {result.stderr!r}")
    check(time.monotonic() - started < 10, "gives up after its tries")
    code, printed = stop_and_read(server)
    check(printed.count("said: hello?") == 2, f"the server saw the first try and one resend: {printed!r}")


def test_no_wait_and_quit():
    server, port = harness.start_server("udp_server")
    result = client(port, "a\nb\nq\nnot sent\n", "--no-wait")
    check(result.returncode == 0, f"--no-wait exits 0 ({result.returncode})")
    check(result.stdout == b"", "--no-wait prints nothing")
    time.sleep(0.5)
    code, printed = stop_and_read(server)
    said = [line.split(" said: ", 1)[1] for line in printed.splitlines()]
    check(said == ["a", "b"], f"lines up to 'q' arrive, 'q' and after do not: {said}")


def test_nobody_listening():
    port = harness.free_port(socket.SOCK_DGRAM)
    started = time.monotonic()
    result = client(port, "anyone?\n", "--timeout", "5")
    elapsed = time.monotonic() - started
    check(result.returncode == 1, f"exit 1 when nobody listens ({result.returncode})")
    check(f"no server at 127.0.0.1:{port} (connection refused)" in result.stderr.decode(),
          f"says who did not answer and why: {result.stderr!r}")
    check(elapsed < 4.5, f"within the timeout ({elapsed:.2f} s)")


def test_port_taken():
    server, port = harness.start_server("udp_server")
    second = subprocess.run(harness.program("udp_server", "--port", port), capture_output=True, timeout=30)
    check(second.returncode == 1, f"a taken port exits 1 ({second.returncode})")
    err = second.stderr.decode()
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
    harness.run(test_echo, test_no_reply_and_retries, test_no_wait_and_quit, test_nobody_listening,
                test_port_taken, test_usage, test_sigterm)
