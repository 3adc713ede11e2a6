"""Schemathesis drives a real node from the node's own OpenAPI document.

The node runs in a background thread with its own event loop and answers on a
loopback port, so schemathesis's synchronous HTTP client (and Hypothesis) never
share a loop with pytest-aiohttp. Every operation gets data that fits its
schemas and data that does not; whatever it sends, every answer must be one the
document describes (status, content type, body, headers) and never a server
error. The node's outbound client is swapped for one that cannot connect, so
lookups of generated handles and IRIs fail at once without touching the network;
those operations may answer the 502 they document, and nothing else in 5xx.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
import requests
import schemathesis
from aiohttp import web
from conftest import make_settings
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from node.app import create_app
from node.federation.http import FederationHttp
from node.openapi_doc import build_openapi
from node.services import accounts, tokens
from node.settings import Settings
from node.typedefs import context_key

T = TypeVar("T")
CONFORMANCE_CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
EXAMPLES_PER_MODE = 8
ADMIN_PASSWORD = "fuzzing admin password"
OFFLINE_DOCUMENT = build_openapi("http://127.0.0.1")
# Collected from a document built offline, so each operation and mode is its own test.
# Negative data needs something to break: a query or a body. (A string path parameter
# can only be broken by leaving it empty, which schemathesis never sends.)
CASES = [
    (method.upper(), path, mode)
    for path, item in OFFLINE_DOCUMENT["paths"].items()
    for method, operation in item.items()
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE
    or "requestBody" in operation
    or any(parameter["in"] == "query" for parameter in operation.get("parameters", []))
]


def only_upstream_failures(ctx: Any, response: Any, case: Any) -> None:
    """For operations that fetch remotely: a 5xx must be an upstream failure problem."""
    if response.status_code >= 500:
        problem = response.json()
        assert response.status_code in (502, 504), response.text
        assert problem["type"].endswith("/fetch-failed"), response.text


class OfflineHttp(FederationHttp):
    """The federation client with a session that can reach nothing: every request
    goes to a Unix socket that does not exist and fails before a packet is sent."""

    def __init__(self, settings: Settings, socket_path: Path) -> None:
        super().__init__(settings)
        self._socket_path = socket_path
        self._offline: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._offline is not None, "start() first"
        return self._offline

    async def start(self) -> None:
        connector = aiohttp.UnixConnector(path=str(self._socket_path))
        self._offline = aiohttp.ClientSession(connector=connector)

    async def close(self) -> None:
        if self._offline is not None:
            await self._offline.close()


@dataclass
class LiveNode:
    """A node answering on a loopback port, driven from another thread."""

    base_url: str
    loop: asyncio.AbstractEventLoop
    app: web.Application

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)


@pytest.fixture(scope="module")
def live_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    data_dir = Path(tmp_path_factory.mktemp("fuzz"))
    base: Settings = make_settings(data_dir / "node")
    # Limits high enough that the fuzzer explores handlers instead of the rate limiter.
    node_settings = dataclasses.replace(
        base, rate_limit_auth_per_minute=1_000_000, rate_limit_write_per_minute=1_000_000
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fuzzed-node", daemon=True)
    thread.start()
    app = create_app(node_settings, run_workers=False)
    runner = web.AppRunner(app)
    node = LiveNode(base_url="", loop=loop, app=app)
    offline = OfflineHttp(node_settings, data_dir / "no-such.sock")
    ctx = app[context_key]
    try:
        node.run(runner.setup())
        node.run(offline.start())
        online, ctx.http = ctx.http, offline
        site = web.TCPSite(runner, "127.0.0.1", 0)
        node.run(site.start())
        host, port = runner.addresses[0][:2]
        node.base_url = f"http://{host}:{port}"
        yield node
    finally:
        if ctx.http is offline:
            ctx.http = online
        node.run(offline.close())
        node.run(runner.cleanup())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


@pytest.fixture(scope="module")
def api_schema(live_node: LiveNode) -> Any:
    """The document as the node serves it, loaded by schemathesis."""
    with requests.get(f"{live_node.base_url}/api/v1/openapi.json", timeout=10) as response:
        response.raise_for_status()
        document = response.json()
    return schemathesis.openapi.from_dict(document, config=schemathesis.Config(seed=1))


@pytest.fixture
def admin_auth(live_node: LiveNode) -> dict[str, str]:
    """A fresh admin token per operation: the fuzzer may log out or revoke the last one."""
    ctx = live_node.app[context_key]

    async def issue() -> str:
        async with ctx.storage.read() as session:
            member = await session.get_member_by_username("fuzzadmin")
        if member is None:
            member = await accounts.create_member(
                ctx, "fuzzadmin", password=ADMIN_PASSWORD, is_admin=True
            )
        elif member.suspended_at is not None:
            member = await accounts.set_suspended(ctx, "fuzzadmin", False)
        return (await tokens.issue_token(ctx, member, "fuzz", "admin")).secret

    return {"Authorization": f"Bearer {live_node.run(issue())}"}


@pytest.mark.spec("OpenAPI 3.1 §4.8.16 Responses Object")
@pytest.mark.parametrize(
    ("method", "path", "mode"), CASES, ids=[f"{m} {p} {mode.value}" for m, p, mode in CASES]
)
def test_operation_answers_as_documented(
    live_node: LiveNode,
    api_schema: Any,
    admin_auth: dict[str, str],
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    operation = api_schema[path][method]
    fetches = "502" in OFFLINE_DOCUMENT["paths"][path][method.lower()]["responses"]
    checks = [only_upstream_failures if fetches else not_a_server_error, *CONFORMANCE_CHECKS]
    strategy = operation.as_strategy(generation_mode=mode, headers=admin_auth)

    @settings(
        max_examples=EXAMPLES_PER_MODE,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def exercise(case: Any) -> None:
        case.call_and_validate(base_url=live_node.base_url, checks=checks, timeout=10)

    exercise()
