"""P5's SMTP server: accepts every message, after `--delay` seconds each (0 = instantly).

`python -m bench.smtp_sink --port N --delay 2 --count-file F` writes how many messages it took
to F whenever one arrives, so the bench can read it after stopping the server.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


class DelayedSink:
    def __init__(self, delay: float, count_file: Path) -> None:
        self.delay = delay
        self.count_file = count_file
        self.received = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        self.received += 1
        self.count_file.write_text(str(self.received))
        return "250 Message accepted for delivery"


async def serve(port: int, delay: float, count_file: Path) -> None:
    handler = DelayedSink(delay, count_file)
    loop = asyncio.get_running_loop()

    def factory() -> Any:
        return SMTP(handler, hostname="bench.local")

    server = await loop.create_server(factory, host="127.0.0.1", port=port)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--count-file", type=Path, required=True)
    args = parser.parse_args()
    args.count_file.write_text("0")
    asyncio.run(serve(args.port, args.delay, args.count_file))


if __name__ == "__main__":
    main()
