"""The network an attack scene lives in, all of it on loopback.

Names stand for hosts on the public internet: a fixed DNS table answers them
with 127.0.0.1, and :class:`PublicNames` lets the victim connect to the ones
the scene calls public while every other answer goes through the real SSRF
checks. An unknown name resolves to nothing, so no test ever asks a real DNS
server or connects off this machine. :class:`Recorder` is a small HTTP server
that serves what a test gives it and counts every request; the canary one
must never be reached by the victim.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from node.federation.ssrf import SafeResolver
from tests.federation.harness import free_port

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class StaticDns(AbstractResolver):
    """Answers from a fixed table; a name it does not know has no address."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        return [
            ResolveResult(
                hostname=host, host=address, port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0, flags=socket.AI_NUMERICHOST,
            )
            for address in self.answers.get(host, [])
        ]

    async def close(self) -> None:
        return None


class PublicNames(SafeResolver):
    """The SSRF-checking resolver, except that ``public`` names may resolve to
    loopback: they play hosts on the internet, served by test servers here."""

    def __init__(self, dns: StaticDns, public: set[str], *, allow_private: bool) -> None:
        super().__init__(allow_private=allow_private, inner=dns)
        self.public = public

    def check_resolved(self, hostname: str, address_text: str) -> None:
        if hostname not in self.public:
            super().check_resolved(hostname, address_text)


def json_response(document: Any, content_type: str = "application/activity+json") -> web.Response:
    return web.Response(body=json.dumps(document).encode(), content_type=content_type)


@dataclass
class Recorder:
    """An HTTP server on loopback that serves ``routes`` and records every hit."""

    name: str
    port: int = field(default_factory=free_port)
    routes: dict[str, Handler] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    runner: web.AppRunner | None = None

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or '127.0.0.1'}:{self.port}{path}"

    def serve_json(self, path: str, document: Any) -> None:
        async def handler(request: web.Request) -> web.Response:
            return json_response(document)

        self.routes[path] = handler

    def redirect(self, path: str, location: str) -> None:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(status=302, headers={"Location": location})

        self.routes[path] = handler

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(f"{request.method} {request.path_qs}")
        handler = self.routes.get(request.path)
        if handler is None:
            return web.Response(status=404)
        return await handler(request)

    async def start(self) -> Recorder:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
