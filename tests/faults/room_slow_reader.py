#!/usr/bin/env python3
"""Room mode under a client that never reads: while another client sends 20 MB
of lines, the sleeper is dropped (its bounded queue overflows), the server's
memory stays well under 100 MB, and a third client that reads receives every
line, in order."""

import socket
import threading
import time

from faults import check, connect, memory_kb, run, start_server, stop, wait_until

LINE_BYTES = 100  # with its LF
TOTAL_BYTES = 20 * 1024 * 1024
LINES = TOTAL_BYTES // LINE_BYTES
MEMORY_LIMIT_MB = 100


def line(i):
    text = f"line {i:08d} "
    return (text + "x" * (LINE_BYTES - 1 - len(text)) + "\n").encode()


def read_everything(sock, result):
    """The reading client: collects the text of every line sent to it."""
    buffer = b""
    texts = []
    while True:
        try:
            chunk = sock.recv(1 << 20)
        except OSError:
            break
        if not chunk:
            break
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        texts.extend(complete)
        if texts and texts[-1].endswith(line(LINES - 1)[:-1]):
            break
    result["texts"] = texts


def drain(sock):
    try:
        while sock.recv(65536):
            pass
    except OSError:  # closed by the test
        pass


def watch_memory(pid, stop_event, result):
    peak = 0
    while not stop_event.is_set():
        try:
            peak = max(peak, memory_kb(pid, "VmHWM"))
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.05)
    result["peak_kb"] = peak


def test_sleeper_dropped_reader_gets_everything():
    server, port, _, err = start_server("tcp_server", "--mode", "room")
    try:
        # The sleeper asks for a small receive buffer, so its queue on the
        # server fills after a few hundred KB instead of several MB of kernel buffers.
        sleeper = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sleeper.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sleeper.connect(("127.0.0.1", port))
        sleeper_port = sleeper.getsockname()[1]
        reader = connect(port, timeout=60)
        sender = connect(port, timeout=60)
        sender_port = sender.getsockname()[1]
        time.sleep(0.2)  # all three joined before the first line

        received, memory = {}, {}
        done = threading.Event()
        threads = [threading.Thread(target=read_everything, args=(reader, received)),
                   threading.Thread(target=watch_memory, args=(server.pid, done, memory))]
        for t in threads:
            t.start()
        # What the sender is sent (others' notices) is small; a thread drains it.
        threading.Thread(target=drain, args=(sender,), daemon=True).start()
        batch = 1000
        for first in range(0, LINES, batch):
            sender.sendall(b"".join(line(i) for i in range(first, min(first + batch, LINES))))
        threads[0].join(120)
        done.set()
        threads[1].join(5)

        texts = [t for t in received.get("texts", []) if f":{sender_port}]".encode() in t]
        expected = [line(i)[:-1] for i in range(LINES)]
        got = [t[t.index(b"] ") + 2:] for t in texts]
        check(len(got) == LINES and got == expected,
              f"the reading client received all {LINES} lines ({LINES * LINE_BYTES} bytes) in order "
              f"(got {len(got)})")
        peak_mb = memory.get("peak_kb", 0) / 1024
        check(0 < peak_mb < MEMORY_LIMIT_MB, f"server peak memory (VmHWM) {peak_mb:.1f} MB < {MEMORY_LIMIT_MB} MB")

        # The sleeper finally reads: what the kernel buffered, then the end.
        sleeper.settimeout(10)
        sleeper_bytes = 0
        try:
            while chunk := sleeper.recv(1 << 16):
                sleeper_bytes += len(chunk)
            closed = True
        except (TimeoutError, ConnectionResetError):
            closed = False
        check(closed and sleeper_bytes < LINES * LINE_BYTES,
              f"the sleeper was dropped (got {sleeper_bytes} bytes, then the end of the stream)")
        check(wait_until(lambda: str(sleeper_port) in err.text(), 2),
              f"the drop is reported on stderr: {err.text().strip()[-200:]!r}")
        check(server.poll() is None, "the server keeps running")
        for s in (sleeper, reader, sender):
            s.close()
    finally:
        check(stop(server) == 0, "the server exits 0 on SIGTERM")


run(test_sleeper_dropped_reader_gets_everything)
