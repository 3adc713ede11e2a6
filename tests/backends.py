"""Run the storage- and API-level tests against both storage backends.

Tests in :data:`BOTH_BACKENDS` modules that use the ``settings`` fixture run
twice, ``[sqlite]`` and ``[postgresql]``; each PostgreSQL run gets a database
of its own (``kula_test_<random>``), dropped afterwards. The server is looked
for at ``$KULA_TEST_POSTGRES_URL`` or 127.0.0.1:5432 (trust auth, database
``test``). When it is not reachable the PostgreSQL half is reported skipped,
with the reason, at the start and at the end of the session: never passed.

``tests/conftest.py`` loads this module as a plugin.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

#: Test modules whose ``settings``-based tests run on both backends.
BOTH_BACKENDS = frozenset({
    "test_api_community",
    "test_api_images",
    "test_api_listings",
    "test_api_members",
    "test_api_reports",
    "test_api_search",
    "test_api_tokens",
    "test_discovery",
    "test_listing_expiry",
    "test_storage",
    "test_trust_snapshot",
})
BACKENDS = ("sqlite", "postgresql")


def _server_label() -> str:
    configured = urlsplit(os.environ.get("KULA_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432"))
    return f"PostgreSQL at {configured.hostname}:{configured.port or 5432}"


SERVER = _server_label()


@dataclass
class PostgresProbe:
    #: URL of the maintenance database, or None when the server is unusable.
    url: str | None = None
    reason: str = ""
    ran: int = 0


_probe = PostgresProbe()


def _candidate_urls() -> list[str]:
    configured = os.environ.get("KULA_TEST_POSTGRES_URL")
    if configured:
        return [configured]
    users = dict.fromkeys([getpass.getuser(), "postgres"])
    return [f"postgresql://{user}@127.0.0.1:5432/test" for user in users]


async def _find_server() -> PostgresProbe:
    reasons = []
    for url in _candidate_urls():
        try:
            connection = await asyncpg.connect(url, timeout=3)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            reasons.append(f"{type(exc).__name__}: {exc}")
            continue
        try:
            # The tests create a database each; a role that cannot is no use.
            allowed = await connection.fetchval(
                "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
            )
        finally:
            await connection.close()
        if allowed:
            return PostgresProbe(url=url)
        reasons.append(f"{url}: the role may not create databases")
    return PostgresProbe(reason="; ".join(reasons))


def database_url_for(base: str, name: str) -> str:
    """``base`` pointed at database ``name``."""
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name}"))


def postgres_status() -> str:
    if _probe.url is None:
        return f"{SERVER} not reachable: the PostgreSQL half did not run ({_probe.reason})"
    user = urlsplit(_probe.url).username
    return f"{SERVER} reachable (as {user}): the PostgreSQL half runs"


def require_postgres() -> str:
    """The maintenance URL; skips the calling test, with the reason, without a server."""
    if _probe.url is None:
        pytest.skip(f"{SERVER} not reachable: the PostgreSQL half did not run")
    return _probe.url


#: A migrated, never-connected database that API tests' databases are copied
#: from: copying is several times faster than migrating each one.
_template: str | None = None


async def _migrated_template(maintenance: str) -> str:
    global _template
    if _template is None:
        from tempfile import TemporaryDirectory

        from node.storage import create_storage
        from tests.support import make_settings

        name = f"kula_template_{secrets.token_hex(6)}"
        connection = await asyncpg.connect(maintenance)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        with TemporaryDirectory() as data_dir:
            settings = make_settings(
                Path(data_dir), database_url=database_url_for(maintenance, name)
            )
            storage = create_storage(settings)
            await storage.open()
            await storage.close()
        _template = name
    return _template


@asynccontextmanager
async def fresh_database(*, migrated: bool = False) -> AsyncIterator[str]:
    """A new database for one test, empty or already ``migrated``; dropped
    (connections and all) afterwards."""
    maintenance = require_postgres()
    name = f"kula_test_{secrets.token_hex(6)}"
    template = f' TEMPLATE "{await _migrated_template(maintenance)}"' if migrated else ""
    connection = await asyncpg.connect(maintenance)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"{template}')
    finally:
        await connection.close()
    _probe.ran += 1
    try:
        yield database_url_for(maintenance, name)
    finally:
        connection = await asyncpg.connect(maintenance)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


async def _drop_template() -> None:
    if _template is None or _probe.url is None:
        return
    connection = await asyncpg.connect(_probe.url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{_template}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``; modules outside BOTH_BACKENDS get SQLite only."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
async def database_url(backend: str) -> AsyncIterator[str]:
    """The ``database_url`` setting for this test's backend (empty: SQLite's default)."""
    if backend == "sqlite":
        yield ""
        return
    async with fresh_database(migrated=True) as url:
        yield url


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database, for tests that are about PostgreSQL itself."""
    async with fresh_database() as url:
        yield url


def pytest_configure(config: pytest.Config) -> None:
    global _probe
    _probe = asyncio.run(_find_server())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    if metafunc.module.__name__.rpartition(".")[2] not in BOTH_BACKENDS:
        return
    marks = {
        "postgresql": [
            pytest.mark.skipif(
                _probe.url is None,
                reason=f"{SERVER} not reachable: the PostgreSQL half did not run",
            )
        ]
    }
    metafunc.parametrize(
        "backend",
        [pytest.param(name, id=name, marks=marks.get(name, [])) for name in BACKENDS],
        indirect=True,
    )


def pytest_report_header(config: pytest.Config) -> str:
    return postgres_status()


def pytest_sessionstart(session: pytest.Session) -> None:
    # -q hides the report header; the status must still be seen.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and session.config.get_verbosity() < 0:
        reporter.write_line(postgres_status())


def pytest_sessionfinish(session: pytest.Session) -> None:
    asyncio.run(_drop_template())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _probe.url is None:
        terminalreporter.write_line(postgres_status(), red=True, bold=True)
    else:
        terminalreporter.write_line(
            f"{SERVER}: {_probe.ran} test(s) ran on fresh PostgreSQL databases"
        )
