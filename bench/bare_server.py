"""The inbox baseline: an aiohttp handler that only parses the JSON body and
answers 202, the ceiling any real inbox on this machine stays under.

Run as ``python -m bench.bare_server PORT``.
"""

from __future__ import annotations

import sys

from aiohttp import web


async def inbox(request: web.Request) -> web.Response:
    document = await request.json()
    return web.json_response({"status": "accepted", "type": document.get("type")}, status=202)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main(argv: list[str] | None = None) -> int:
    port = int((argv or sys.argv[1:])[0])
    app = web.Application()
    app.router.add_post("/inbox", inbox)
    app.router.add_get("/healthz", health)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
