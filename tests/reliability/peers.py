"""Hostile peers: small servers on loopback, one per way a remote node can
misbehave, each on its own port (so on its own "host" for per-host limits
and breakers). Every peer answers both a delivery (``POST /inbox``) and a
fetch (``GET /doc``) the same bad way, and counts the requests it saw.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from tests.federation.harness import free_port

AP = "application/activity+json"
#: What a peer that "serves a huge body" sends, unless the client hangs up first.
HUGE_BODY_BYTES = 50 * 1024 * 1024
_CHUNK = b"x" * (64 * 1024)

#: Every fault mode: ``slow`` dribbles its answer's head, ``trickle`` its body
#: (after a prompt status), ``hang`` never answers, ``garbage`` answers bytes
#: that are not HTTP, ``redirect-loop`` redirects to itself, ``huge`` streams
#: 50 MB, ``huge-gzip`` 50 MB of zeros gzip-compressed, ``reset`` sends RST.
FAULTS = (
    "slow", "trickle", "hang", "garbage", "redirect-loop", "huge", "huge-gzip", "reset",
)
#: Faults played below HTTP, where aiohttp's server would only answer well-formed.
_RAW_FAULTS = ("slow", "garbage", "reset")
#: Pause between two bytes of a dribbled answer.
_DRIBBLE_SECONDS = 0.05


def _gzip_of_zeros(size: int) -> bytes:
    """A gzip stream of ``size`` zero bytes, made without holding them all."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1024 * 1024)
    parts = [packer.compress(zeros) for _ in range(size // len(zeros))]
    return b"".join(parts) + packer.flush()


@dataclass
class Peer:
    """One server on 127.0.0.1 behaving as ``fault`` says (or well, ``"healthy"``)."""

    fault: str
    port: int = field(default_factory=free_port)
    requests: int = 0
    #: Ids of the activities a healthy inbox accepted.
    received: list[str] = field(default_factory=list)
    #: Bytes of body sent by the huge peers before the client hung up.
    body_bytes_sent: int = 0
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    _raw: asyncio.Server | None = None
    _gzip: bytes = b""

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def inbox(self) -> str:
        return f"http://{self.host}/inbox"

    @property
    def document(self) -> str:
        return f"http://{self.host}/doc"

    async def start(self) -> Peer:
        if self.fault in _RAW_FAULTS:
            self._raw = await asyncio.start_server(self._raw_client, "127.0.0.1", self.port)
            return self
        if self.fault == "huge-gzip":
            self._gzip = await asyncio.to_thread(_gzip_of_zeros, HUGE_BODY_BYTES)
        app = web.Application()
        app.router.add_post("/inbox", self._counted(self._answer))
        app.router.add_get("/doc", self._counted(self._answer))
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        self._release.set()  # hanging handlers return, so the server can close
        if self._runner is not None:
            await self._runner.cleanup()
        if self._raw is not None:
            self._raw.close()
            await self._raw.wait_closed()

    def _counted(
        self, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def counted(request: web.Request) -> web.StreamResponse:
            self.requests += 1
            return await handler(request)

        return counted

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        status = 202 if request.method == "POST" else 200
        if self.fault == "healthy":
            if request.method == "POST":
                self.received.append(json.loads(body)["id"])
                return web.Response(status=202)
            return web.json_response({"id": self.document, "type": "Note"}, content_type=AP)
        if self.fault == "hang":
            await self._release.wait()
            return web.Response(status=status)
        if self.fault == "redirect-loop":
            return web.Response(status=302, headers={"Location": str(request.url)})
        response = web.StreamResponse(status=status, headers={"Content-Type": AP})
        if self.fault == "huge-gzip":
            response.headers["Content-Encoding"] = "gzip"
        await response.prepare(request)
        try:
            await self._stream_body(response)
        except ConnectionError:
            pass  # the client hung up, as it should
        return response

    async def _stream_body(self, response: web.StreamResponse) -> None:
        if self.fault == "trickle":
            # The status at once, then a byte of body now and then, for ever.
            while not self._release.is_set():
                await response.write(b" ")
                await asyncio.sleep(_DRIBBLE_SECONDS)
            return
        if self.fault == "huge-gzip":
            for start in range(0, len(self._gzip), len(_CHUNK)):
                piece = self._gzip[start:start + len(_CHUNK)]
                await response.write(piece)
                self.body_bytes_sent += len(piece)
            return
        while self.body_bytes_sent < HUGE_BODY_BYTES:  # "huge": a plain 50 MB body
            await response.write(_CHUNK)
            self.body_bytes_sent += len(_CHUNK)

    async def _raw_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.requests += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            if self.fault == "slow":
                # A status line and headers that never end, a byte at a time.
                head = b"HTTP/1.1 202 Accepted\r\n" + b"X-Padding: " + b"p" * 4000
                for byte in head:
                    if self._release.is_set():
                        break
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.sleep(_DRIBBLE_SECONDS)
            elif self.fault == "garbage":
                writer.write(b"\x00\xffTHIS IS NOT HTTP\r\n\x07" * 64)
                await writer.drain()
            else:
                # SO_LINGER with a zero timeout: close() sends RST, not FIN.
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
