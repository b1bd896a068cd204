# SPDX-License-Identifier: BSL-1.0
"""The seed's UDP client, in Python 3: sends every typed line as a datagram
until 'q' or 'Q', and never listens for an answer. A peer for the
end-to-end tests."""

import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    line = sys.stdin.readline()
    if not line:
        break
    data = line.rstrip("\n")
    if data in ("q", "Q"):
        break
    s.sendto(data.encode(), (host, port))
s.close()
