"""Lightweight inboxes for the fan-out benchmark: one process listening on
many loopback ports, each port standing for another server. Every POST is
counted (by the Host it was sent to) and answered 202 at once.

Run as ``python -m bench.receivers COUNT PORTS_FILE``: once listening, the
ports are written to ``PORTS_FILE`` as a JSON list. ``GET /stats`` on any
port answers ``{"total": N, "hosts": H}``.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from collections import Counter
from pathlib import Path

from aiohttp import web

received: Counter[str] = Counter()


async def inbox(request: web.Request) -> web.Response:
    await request.read()
    received[request.host] += 1
    return web.Response(status=202)


async def stats(request: web.Request) -> web.Response:
    return web.json_response({"total": sum(received.values()), "hosts": len(received)})


async def serve(count: int, ports_file: Path) -> None:
    app = web.Application()
    app.router.add_post("/inbox", inbox)
    app.router.add_get("/stats", stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    ports = []
    for _ in range(count):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        await web.SockSite(runner, listener, backlog=64).start()
        ports.append(listener.getsockname()[1])
    temporary = ports_file.with_suffix(".tmp")
    temporary.write_text(json.dumps(ports))
    temporary.replace(ports_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    count, ports_file = (argv or sys.argv[1:])[:2]
    asyncio.run(serve(int(count), Path(ports_file)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
