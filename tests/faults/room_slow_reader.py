#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Room mode under a client that never reads: while another client sends 20 MB
of lines, the sleeper is dropped (its bounded queue overflows), the server's
memory stays well under 100 MB, and a third client that reads receives every
line, in order.

`room_slow_reader.py` sends at 2 MB/s, a pace a reading client keeps up with;
`room_slow_reader.py --burst` sends as fast as loopback takes it, where a
reading client only keeps up if the server holds the sender back while the
reader's queue drains (it is registered disabled while tcp_server drops the
reader too: see docs/reliability.md)."""

import argparse
import json
import socket
import subprocess
import sys
import textwrap
import threading
import time

from faults import (check, check_clean_exit, connect, memory_kb, run, sanitizer, start_server, stop,
                    wait_until)

LINE_BYTES = 100  # with its LF
TOTAL_BYTES = 20 * 1024 * 1024
LINES = TOTAL_BYTES // LINE_BYTES
MEMORY_LIMIT_MB = 100
PACE_BYTES, PACE_SECONDS = 20 * 1024, 0.01  # 2 MB/s unless --burst

# The reading client is its own process, so that it reads at its own pace and
# not at whatever pace this script's threads leave it.
READER = textwrap.dedent("""
    import json, socket, sys
    port, lines, line_bytes = (int(a) for a in sys.argv[1:4])
    def line(i):
        text = f"line {i:08d} "
        return (text + "x" * (line_bytes - 1 - len(text))).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    print(sock.getsockname()[1], flush=True)
    sender = sys.stdin.readline().strip().encode()  # the sender's port, once it has joined
    prefix = b"<127.0.0.1:" + sender + b"> "
    buffer, count, in_order, ended = b"", 0, True, False
    while count < lines:
        chunk = sock.recv(1 << 20)
        if not chunk:
            ended = True
            break
        buffer += chunk
        *complete, buffer = buffer.split(b"\\n")
        for text in complete:
            if text.startswith(prefix):
                in_order = in_order and text[len(prefix):] == line(count)
                count += 1
    print(json.dumps({"lines": count, "in_order": in_order, "dropped": ended}), flush=True)
""")


def line(i):
    text = f"line {i:08d} "
    return (text + "x" * (LINE_BYTES - 1 - len(text)) + "\n").encode()


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
    data = b"".join(line(i) for i in range(LINES))
    server, port, _, err = start_server("tcp_server", "--mode", "room", "--verbose")
    reader = subprocess.Popen([sys.executable, "-c", READER, str(port), str(LINES), str(LINE_BYTES)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        # The sleeper asks for a small receive buffer, so its queue on the
        # server fills after a few hundred KB instead of several MB of kernel buffers.
        sleeper = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sleeper.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sleeper.connect(("127.0.0.1", port))
        sleeper_port = sleeper.getsockname()[1]
        reader_port = int(reader.stdout.readline())
        sender = connect(port, timeout=60)
        sender_port = sender.getsockname()[1]
        reader.stdin.write(f"{sender_port}\n".encode())
        reader.stdin.flush()
        time.sleep(0.2)  # all three joined before the first line

        memory, done = {}, threading.Event()
        watcher = threading.Thread(target=watch_memory, args=(server.pid, done, memory))
        watcher.start()
        threading.Thread(target=drain, args=(sender,), daemon=True).start()  # others' notices
        if BURST:
            sender.sendall(data)
        else:
            for offset in range(0, len(data), PACE_BYTES):
                sender.sendall(data[offset:offset + PACE_BYTES])
                time.sleep(PACE_SECONDS)
        try:
            result = json.loads(reader.stdout.readline() or "{}")
        finally:
            done.set()
            watcher.join(5)

        check(result.get("lines") == LINES and result.get("in_order"),
              f"the reading client received {result.get('lines')} of {LINES} lines ({len(data)} bytes), "
              f"in order: {result.get('in_order')}, dropped: {result.get('dropped')}")
        peak_mb = memory.get("peak_kb", 0) / 1024
        if sanitizer("tcp_server"):
            print(f"not judged: server peak memory (VmHWM) {peak_mb:.1f} MB under {sanitizer('tcp_server')}")
        else:
            check(0 < peak_mb < MEMORY_LIMIT_MB,
                  f"server peak memory (VmHWM) {peak_mb:.1f} MB < {MEMORY_LIMIT_MB} MB")

        # The sleeper finally reads: what the kernel buffered, then the end.
        sleeper.settimeout(10)
        sleeper_bytes = 0
        try:
            while chunk := sleeper.recv(1 << 16):
                sleeper_bytes += len(chunk)
            closed = True
        except (TimeoutError, ConnectionResetError):
            closed = False
        check(closed and sleeper_bytes < len(data),
              f"the sleeper was dropped (got {sleeper_bytes} bytes, then the end of the stream)")
        check(wait_until(lambda: f":{sleeper_port}" in err.text(), 2),
              f"the drop is reported on stderr: {err.text().strip()[-300:]!r}")
        check(wait_until(lambda: f":{sleeper_port} disconnected (dropped as not reading)" in err.text(), 2),
              "and it leaves as dropped: 'ADDR disconnected (dropped as not reading)'")
        check(f"dropped 127.0.0.1:{reader_port}" not in err.text(), "the reading client was not dropped")
        check(server.poll() is None, "the server keeps running")
        sleeper.close()
        sender.close()
    finally:
        stop(reader)
        check_clean_exit(server, err)


parser = argparse.ArgumentParser()
parser.add_argument("--burst", action="store_true", help="send the 20 MB as fast as loopback takes it")
BURST = parser.parse_known_args()[0].burst
run(test_sleeper_dropped_reader_gets_everything)
