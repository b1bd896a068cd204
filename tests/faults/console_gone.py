#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""A console that goes away (`tcp_server | head -1`: the reader of stdout
exits) leaves a server serving: it no longer writes what it cannot show,
keeps its clients, takes new ones, and exits 0 on SIGTERM. Before, the next
write raised SIGPIPE and the server died with status 141, every client cut
off without a word. A client whose reader goes away (`tcp_client ... | head
-1`) may end like netcat (SIGPIPE), but never crashes or hangs."""

import signal
import socket
import subprocess
import time

from faults import Output, check, connect, harness, recv_until, run, wait_until

SIGPIPE_DEATHS = (-signal.SIGPIPE, 128 + signal.SIGPIPE)


def read_one_line_and_go(pipe):
    """What `head -1` does: one line, then the read end is closed."""
    line = pipe.readline()
    pipe.close()
    return line


def test_tcp_server_console_gone():
    server, port = harness.start_server("tcp_server", "--mode", "chat", stdout=subprocess.PIPE)
    err = Output(server.stderr)
    try:
        first = connect(port)
        first.sendall(b"the only line the console reads\n")
        shown = read_one_line_and_go(server.stdout)
        check(shown.endswith(b"> the only line the console reads\n"), f"the console showed the first line: {shown!r}")
        clients = [first]
        for i in range(3):  # one after the other, each with lines for the gone console
            sock = connect(port)
            sock.sendall(b"line %d for nobody\n" % i)
            clients.append(sock)
            time.sleep(0.1)
        check(server.poll() is None, f"the server is still running (exit {server.poll()})")
        last = connect(port)
        name = "127.0.0.1:%d" % last.getsockname()[1]
        check(wait_until(lambda: f"{name} connected" in err.text(), 5), "a client connecting later is admitted")
        clients.append(last)
        code = harness.signal_and_wait(server)
        check(code == 0, f"SIGTERM: exit 0 (exit {code})")
        goodbyes = 0
        for sock in clients:
            sock.settimeout(5)
            if recv_until(sock, b"server shutting down\n").endswith(b"server shutting down\n"):
                goodbyes += 1
        check(goodbyes == len(clients), f"{goodbyes} of {len(clients)} clients heard 'server shutting down'")
    finally:
        harness.stop(server)


def test_udp_server_console_gone():
    server, port = harness.start_server("udp_server", stdout=subprocess.PIPE)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(5)
            sock.sendto(b"first", ("127.0.0.1", port))
            check(sock.recvfrom(100)[0] == b"first", "the first datagram is echoed")
            shown = read_one_line_and_go(server.stdout)
            check(shown.endswith(b") said: first\n"), f"the console showed it: {shown!r}")
            answered = 0
            for i in range(20):  # each answered before the next is sent: none may be lost
                payload = b"after %d" % i
                for _ in range(3):
                    sock.sendto(payload, ("127.0.0.1", port))
                    try:
                        if sock.recvfrom(100)[0] == payload:
                            answered += 1
                            break
                    except TimeoutError:
                        pass
            check(answered == 20, f"with its console gone it answers {answered} of 20 datagrams")
        check(server.poll() is None, f"the server is still running (exit {server.poll()})")
        code = harness.signal_and_wait(server)
        check(code == 0, f"SIGTERM: exit 0 (exit {code})")
    finally:
        harness.stop(server)


def client_with_reader_gone(name, peer_kind):
    """`CLIENT | head -1` against an echo peer, with more input coming."""
    with socket.socket(socket.AF_INET, peer_kind) as peer:
        peer.bind(("127.0.0.1", 0))
        port = peer.getsockname()[1]
        if peer_kind == socket.SOCK_STREAM:
            peer.listen()
        peer.settimeout(10)
        client = harness.start(name, "127.0.0.1", port)
        conn = peer.accept()[0] if peer_kind == socket.SOCK_STREAM else None
        first = b""
        try:
            for i in range(50):
                client.stdin.write(b"line %d\n" % i)
                client.stdin.flush()
                if conn:
                    conn.sendall(b"line %d\n" % i)
                else:
                    data, sender = peer.recvfrom(65536)
                    peer.sendto(data, sender)
                if i == 0:
                    first = read_one_line_and_go(client.stdout)
                time.sleep(0.01)
        except OSError:
            pass  # the client has gone (a broken pipe to its stdin, or no more datagrams)
        try:
            code = client.wait(10)
        except subprocess.TimeoutExpired:
            code = None
            client.kill()
            client.wait()
        stderr = harness.said(client.stderr.read())
        if conn:
            conn.close()
    check(first == b"line 0\n", f"{name}: the reader got the first line: {first!r}")
    check(code in (0, *SIGPIPE_DEATHS), f"{name}: ends when its reader has gone, like netcat (exit {code})")
    check("unexpected error" not in stderr, f"{name}: no crash report: {stderr.strip()!r}")


def test_clients_reader_gone():
    client_with_reader_gone("tcp_client", socket.SOCK_STREAM)
    client_with_reader_gone("udp_client", socket.SOCK_DGRAM)


run(test_tcp_server_console_gone, test_udp_server_console_gone, test_clients_reader_gone)
