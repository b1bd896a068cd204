#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""asyncio_echo: the Python peer of coronet's benchmark. A line echo server
written with asyncio streams, as their documentation shows it: one coroutine
per connection, readline(), write(), drain().

    python3 bench/peers/asyncio_echo.py --port 0   (prints "listening on 127.0.0.1:PORT" on stderr)
"""
import argparse
import asyncio
import sys

MAX_LINE = 1 << 17  # readline()'s default limit (64 KiB) is below the benchmark's 60,000 B lines plus margin


async def serve_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while line := await reader.readline():
            writer.write(line)
            await writer.drain()
    except (ConnectionError, asyncio.LimitOverrunError, ValueError):
        pass
    finally:
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5000, help="0 picks a free port")
    args = parser.parse_args()
    server = await asyncio.start_server(serve_echo, "127.0.0.1", args.port, limit=MAX_LINE, backlog=4096)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on {host}:{port}", file=sys.stderr, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
