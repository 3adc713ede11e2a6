"""Real Kula nodes on loopback ports for federation tests: each has its own
data directory and SQLite database and serves real HTTP. Workers are stepped
explicitly (``settle``), so tests never wait on timing."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from node.app import create_app
from node.services import accounts, tokens
from node.services.context import NodeContext
from node.settings import Settings
from node.typedefs import context_key
from node.workers.runner import run_once
from tests.support import TEST_PASSWORD, make_settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Node:
    name: str
    data_dir: Path
    port: int = field(default_factory=free_port)
    overrides: dict[str, Any] = field(default_factory=dict)
    runner: web.AppRunner | None = None
    session: aiohttp.ClientSession | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def settings(self) -> Settings:
        return make_settings(
            self.data_dir, url=self.url, name=f"Community {self.name}", **self.overrides
        )

    @property
    def ctx(self) -> NodeContext:
        assert self.runner is not None, f"node {self.name} is not running"
        return self.runner.app[context_key]

    async def start(self) -> Node:
        app = create_app(self.settings, run_workers=False)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self.session = aiohttp.ClientSession(base_url=self.url)
        return self

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def member(self, username: str, *, scope: str = "admin") -> str:
        """Create a member and return a bearer token for it."""
        member = await accounts.create_member(
            self.ctx, username, password=TEST_PASSWORD, is_admin=scope == "admin"
        )
        return (await tokens.issue_token(self.ctx, member, "test", scope)).secret

    def actor(self, username: str) -> str:
        return f"{self.url}/users/{username}"

    async def api(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        assert self.session is not None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.session.request(method, path, headers=headers, **kwargs) as response:
            body = await response.json(content_type=None) if response.content_length != 0 else None
            return response.status, body


async def settle(*nodes: Node, max_rounds: int = 40) -> int:
    """Step every running node's workers until none of them has work left."""
    for round_number in range(1, max_rounds + 1):
        busy = False
        for node in nodes:
            if node.runner is None:
                continue
            done = await run_once(node.ctx)
            busy = busy or any(done.values())
        if not busy:
            return round_number
    raise AssertionError(f"nodes still busy after {max_rounds} rounds")
