# SPDX-License-Identifier: BSL-1.0
"""The seed's UDP server, in Python 3 and bound to loopback: prints what every
datagram said and never replies. A peer for the end-to-end tests."""

import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
print("waiting on port:", s.getsockname()[1], flush=True)
while True:
    data, addr = s.recvfrom(1024)
    print(f"({addr[0]} {addr[1]}) said: {data.decode(errors='replace')}", flush=True)
