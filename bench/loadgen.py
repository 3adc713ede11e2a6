"""A small, fast HTTP/1.1 load generator for loopback servers.

aiohttp's client spends more CPU per request than a bare aiohttp server, so
on a 2-core machine it would measure itself. This one sends requests that are
already serialised (signed ahead of time) over keep-alive connections, one
request in flight per connection, and reads only the status line and
``Content-Length`` of each answer. Each request's latency runs from the write
to the last byte of its answer.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    sent: int
    elapsed: float
    #: Per-request latency in seconds, in completion order.
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.completed / self.elapsed if self.elapsed > 0 else 0.0


def http_request(method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """One serialised HTTP/1.1 request; ``headers`` must include Host."""
    lines = [f"{method} {path} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()
              if name.lower() != "content-length"]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Connection(asyncio.Protocol):
    def __init__(self, load: _Load) -> None:
        self.load = load
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.started = 0.0
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._send_next()

    def _send_next(self) -> None:
        assert self.transport is not None
        request = next(self.load.pending, None)
        if request is None:
            self.transport.close()
            return
        self.started = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line.startswith(b"content-length:"):
                    length = int(line[15:].strip())
            if len(self.buffer) < end + 4 + length:
                return
            status = int(head[9:12])
            del self.buffer[: end + 4 + length]
            self.load.record(status, time.perf_counter() - self.started)
            self._send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            self.load.result.errors.append(repr(exc))
        if not self.closed.done():
            self.closed.set_result(None)


@dataclass
class _Load:
    pending: Iterator[bytes]
    result: LoadResult

    def record(self, status: int, latency: float) -> None:
        self.result.latencies.append(latency)
        self.result.statuses[status] += 1


async def run_load(
    host: str, port: int, requests: Sequence[bytes], *, concurrency: int,
    time_limit: float = 300.0
) -> LoadResult:
    """Send every request in ``requests`` over ``concurrency`` connections.

    Gives up after ``time_limit`` seconds, recording what had not completed as errors.
    """
    loop = asyncio.get_running_loop()
    load = _Load(iter(requests), LoadResult(sent=len(requests), elapsed=0.0))
    started = time.perf_counter()
    connections = []
    for _ in range(min(concurrency, len(requests))):
        _, protocol = await loop.create_connection(lambda: _Connection(load), host, port)
        connections.append(protocol)
    try:
        await asyncio.wait_for(
            asyncio.gather(*(connection.closed for connection in connections)), time_limit
        )
    except TimeoutError:
        load.result.errors.append(f"gave up after {time_limit:g} s")
        for connection in connections:
            if connection.transport is not None:
                connection.transport.abort()
    load.result.elapsed = time.perf_counter() - started
    return load.result
