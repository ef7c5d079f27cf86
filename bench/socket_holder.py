"""A child process that opens and holds authenticated sockets for P3.

`python -m bench.socket_holder --port N --tokens-file F` opens one socket per token line,
prints `OPEN <opened> <failed>`, then holds them (answering the server's pings) until a line
arrives on stdin, and prints one JSON line: opened, failed, dropped (closed by the server or
the network while held), pings answered, a few error samples.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

import uvloop

from bench.wsclient import open_many


async def hold(port: int, tokens: list[str], concurrency: int) -> None:
    loop = asyncio.get_running_loop()
    clients, errors = await open_many("127.0.0.1", port, tokens, concurrency=concurrency)
    print(f"OPEN {len(clients)} {len(errors)}", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    dropped = [client for client in clients if not client.is_open]
    result = {
        "opened": len(clients),
        "failed": len(errors),
        "dropped": len(dropped),
        "drop_codes": sorted({str(client.close_code) for client in dropped}),
        "pings": sum(client.pings for client in clients),
        "errors": errors[:5],
    }
    for client in clients:
        client.close()
    await asyncio.sleep(0.2)
    print(json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tokens-file", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    tokens = args.tokens_file.read_text().split()
    uvloop.run(hold(args.port, tokens, args.concurrency))


if __name__ == "__main__":
    main()
