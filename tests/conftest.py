"""Shared fixtures: a real node (real database, real HTTP server) per test; see
tests/backends.py for which tests also run on PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from node.app import create_app
from node.services import accounts, tokens
from node.services.context import NodeContext
from node.settings import Settings
from node.storage.records import Member
from node.typedefs import context_key
from tests.support import TEST_PASSWORD, make_settings

# Fixtures (backend, database_url, postgres_url) and hooks that run tests on both backends.
pytest_plugins = [
    "tests.backends", "tests.federation.fixtures", "tests.web.fixtures", "tests.speed",
]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "node", database_url=database_url)


@pytest.fixture
def node_app(settings: Settings, database_url: str) -> web.Application:
    # Modules that override `settings` still run on this test's backend.
    if database_url and not settings.database_url:
        settings = replace(settings, database_url=database_url)
    return create_app(settings, run_workers=False)


@pytest.fixture
async def client(
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient]], node_app: web.Application
) -> TestClient:
    return await aiohttp_client(node_app)


@pytest.fixture
def ctx(client: TestClient) -> NodeContext:
    return client.app[context_key]


@dataclass(frozen=True)
class TestMember:
    member: Member
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


MemberFactory = Callable[..., Awaitable[TestMember]]


@pytest.fixture
def make_member(ctx: NodeContext) -> MemberFactory:
    """Create a member with a password and a token of the given scope."""

    async def factory(
        username: str = "alice", *, scope: str = "write", admin: bool = False
    ) -> TestMember:
        member = await accounts.create_member(
            ctx, username, password=TEST_PASSWORD, is_admin=admin or scope == "admin"
        )
        issued = await tokens.issue_token(ctx, member, "test", scope)
        return TestMember(member=member, token=issued.secret)

    return factory
