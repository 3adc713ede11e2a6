"""Real ``kula`` processes for crash tests.

A :class:`KulaProcess` is started from the virtualenv's ``kula`` and counted
as ready when it prints its ready line, so no test guesses start-up times. It
dies by SIGKILL: no ``finally`` block, cleanup context or buffered write runs.
A :class:`ServedNode` is a node whose web server is such a process; its
database is read from outside with :func:`db_rows`. An :class:`InboxGate`
holds an in-process receiver's answers, so a sender can be killed while
deliveries the receiver already stored are still unanswered.
"""

from __future__ import annotations

import asyncio
import ctypes
import inspect
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp
import aiosqlite
from aiohttp import web

from node.app import create_app
from tests.federation.harness import Node, free_port
from tests.support import TEST_PASSWORD

KULA = str(Path(sys.executable).parent / "kula")
#: Generous for a cold interpreter on a loaded two-core machine; only a hang waits this long.
READY_TIMEOUT = 30.0
#: Before every lock and backoff a node can have written.
LONG_AGO = "2000-01-01T00:00:00Z"
PENDING_DELIVERY_STATES = ("new", "sending", "retrying")
PENDING_JOB_STATES = ("new", "running", "retrying")
#: One word every crash-test listing title carries, so one search finds them all.
TITLE_WORD = "Crashkit"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: A node's ``api(method, path, token, **kwargs)``, in-process or served.
Api = Callable[..., Awaitable[tuple[int, Any]]]


def _open_log(path: Path) -> IO[bytes]:
    # The child gets its own descriptor; ours is closed once it is spawned.
    return path.open("ab")


def _die_with_parent() -> None:
    # Runs in the child before exec: if the test run itself is killed, its
    # nodes go with it instead of serving on, orphaned.
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


async def run_kula(*args: str, stdin: str | None = None, within: float = 30.0) -> str:
    """Run one ``kula`` command to its end and return its standard output."""
    process = await asyncio.create_subprocess_exec(
        KULA, *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(within):
            out, err = await process.communicate(None if stdin is None else stdin.encode())
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, f"kula {' '.join(args)} exited {process.returncode}: {err!r}"
    return out.decode()


@dataclass
class KulaProcess:
    """One ``kula`` command in a child process (``serve``, ``worker``, ``backup``...)."""

    args: tuple[str, ...]
    log_path: Path
    #: The start of the line the command prints once it is ready.
    ready_prefix: str = ""
    process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Spawn the command and return once it has printed its ready line."""
        await self.spawn()
        assert self.process is not None and self.process.stdout is not None
        async with asyncio.timeout(READY_TIMEOUT):
            while line := await self.process.stdout.readline():
                if line.decode().startswith(self.ready_prefix):
                    return
            await self.process.wait()
        raise AssertionError(
            f"kula {self.args[0]} exited ({self.process.returncode}) before it was ready:\n"
            + _tail(self.log_path)
        )

    async def spawn(self) -> None:
        """Spawn the command and return at once."""
        log = _open_log(self.log_path)
        try:
            self.process = await asyncio.create_subprocess_exec(
                KULA, *self.args, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=log, preexec_fn=_die_with_parent,
            )
        finally:
            log.close()

    async def kill(self) -> None:
        """SIGKILL the process and reap it."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.returncode is None:
            process.kill()
        await process.wait()


@dataclass
class ServedNode:
    """A node in its own data directory, served by a ``kula serve`` process."""

    name: str
    root: Path
    port: int = field(default_factory=free_port)
    server: KulaProcess | None = None
    session: aiohttp.ClientSession | None = None
    workers: list[KulaProcess] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.root / self.name

    @property
    def database(self) -> Path:
        return self.data_dir / "kula.sqlite3"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def actor(self, username: str) -> str:
        return f"{self.url}/users/{username}"

    async def init(self) -> None:
        """``kula init`` for loopback federation."""
        await run_kula(
            "init", "--data", str(self.data_dir), "--url", self.url, "--port", str(self.port),
            "--allow-private-network", "--registration", "open",
        )

    async def member(self, username: str) -> str:
        """Create a member with the CLI and return a write token for it."""
        data = ("--data", str(self.data_dir))
        await run_kula("member", "create", username, "--password-stdin", *data,
                       stdin=TEST_PASSWORD + "\n")
        return (await run_kula("token", "create", username, "--scope", "write", *data)).strip()

    async def serve(self, *, workers: bool = True) -> None:
        """Start (or restart) ``kula serve`` on the node's port and data directory."""
        args = ["serve", "--data", str(self.data_dir), "--port", str(self.port)]
        if not workers:
            args.append("--no-workers")
        self.server = KulaProcess(tuple(args), self.root / f"{self.name}.log", "Kula is serving")
        await self.server.start()
        if self.session is None:
            self.session = aiohttp.ClientSession(base_url=self.url)

    async def start_worker(self) -> KulaProcess:
        """Start one more ``kula worker`` process on the node's data directory."""
        worker = KulaProcess(
            ("worker", "--data", str(self.data_dir)),
            self.root / f"{self.name}-worker{len(self.workers)}.log", "kula worker running",
        )
        self.workers.append(worker)
        await worker.start()
        return worker

    async def kill(self) -> None:
        """SIGKILL the web process."""
        assert self.server is not None
        await self.server.kill()

    async def close(self) -> None:
        """Kill every process of the node and close the client session."""
        for process in [*self.workers, self.server]:
            if process is not None:
                await process.kill()
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def api(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        assert self.session is not None, f"node {self.name} was never served"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.session.request(method, path, headers=headers, **kwargs) as response:
            body = await response.json(content_type=None) if response.content_length != 0 else None
            return response.status, body


async def db_rows(database: Path, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
    """Read a node's database from outside the node (any process may be writing)."""
    async with aiosqlite.connect(database) as connection:
        connection.row_factory = aiosqlite.Row
        await connection.execute("PRAGMA busy_timeout = 10000")
        async with connection.execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())


async def integrity(database: Path) -> str:
    rows = await db_rows(database, "PRAGMA integrity_check")
    return " ".join(str(row[0]) for row in rows)


async def lapse_claims(database: Path) -> dict[str, int]:
    """Make every claimed or backed-off row due now, as if the two-minute lock
    and the retry wait had passed. Only for rows whose owner is dead: returns
    how many deliveries and jobs were still claimed."""
    async with aiosqlite.connect(database) as connection:
        await connection.execute("PRAGMA busy_timeout = 10000")
        claimed = {}
        for table, claimed_state in (("deliveries", "sending"), ("jobs", "running")):
            cursor = await connection.execute(
                f"UPDATE {table} SET locked_until = ? WHERE state = ?", (LONG_AGO, claimed_state)
            )
            claimed[table] = cursor.rowcount
            await connection.execute(
                f"UPDATE {table} SET next_attempt_at = ? WHERE state = 'retrying'", (LONG_AGO,)
            )
        await connection.commit()
    return claimed


async def queue_drained(database: Path) -> bool:
    """Whether a node has no job or delivery left to do."""
    rows = await db_rows(
        database,
        f"SELECT (SELECT count(*) FROM deliveries WHERE state IN {PENDING_DELIVERY_STATES})"
        f" + (SELECT count(*) FROM jobs WHERE state IN {PENDING_JOB_STATES})",
    )
    return rows[0][0] == 0


def listing(number: int) -> dict[str, Any]:
    """The body of a listing whose title is unique to ``number``."""
    return {
        "purpose": "offer", "mode": "lend", "title": f"{TITLE_WORD} {number:03d}",
        "description": "Made in a burst.", "categories": ["tools"],
    }


async def search_titles(api: Api) -> list[str]:
    """Every listing title a node's search finds for :data:`TITLE_WORD`."""
    status, body = await api("GET", f"/api/v1/search?q={TITLE_WORD}&status=any&limit=100")
    assert status == 200, body
    assert body["next_cursor"] is None, "more crash-test listings than one page holds"
    return [item["title"] for item in body["items"]]


async def check_sent_once(sender_db: Path, author: str) -> tuple[list[str], list[aiosqlite.Row]]:
    """Assert the sender's queue ended with every row delivered and exactly one
    row per Create of ``author`` (its one follower inbox); return the Creates'
    ids and the delivery rows."""
    creates = [row["iri"] for row in await db_rows(
        sender_db, "SELECT iri FROM activities WHERE type = 'Create' AND actor_iri = ?", (author,)
    )]
    deliveries = await db_rows(sender_db, "SELECT * FROM deliveries")
    assert [dict(row) for row in deliveries if row["state"] != "delivered"] == []
    sent = sorted(row["activity_iri"] for row in deliveries if row["activity_iri"] in creates)
    assert sent == sorted(creates)
    return creates, deliveries


async def check_received_once(
    receiver_db: Path, api: Api,
    creates: list[str], titles: list[str],
) -> None:
    """Assert the receiver stored each Create once, processed each, and lists
    each listing once."""
    received = await db_rows(
        receiver_db, "SELECT iri, outcome FROM inbox_activities WHERE type = 'Create'"
    )
    assert sorted(row["iri"] for row in received) == sorted(creates)
    assert {row["outcome"] for row in received} == {"applied"}
    assert sorted(await search_titles(api)) == sorted(titles)


async def in_flight(sender_db: Path, receiver_db: Path) -> set[str]:
    """Activities the receiver stored whose delivery the sender has not recorded."""
    sending = await db_rows(sender_db, "SELECT activity_iri FROM deliveries"
                            " WHERE state = 'sending'")
    stored = await db_rows(receiver_db, "SELECT iri FROM inbox_activities")
    return {row[0] for row in sending} & {row[0] for row in stored}


async def follow(
    api: Api, token: str, target: str,
    step: Callable[[], Awaitable[object]],
) -> None:
    """Follow ``target`` and wait for the Accept; ``step`` drives the in-process node."""
    status, body = await api("POST", "/api/v1/follows", token, json={"target": target})
    assert status == 201, body

    async def accepted() -> bool:
        await step()
        _, following = await api("GET", "/api/v1/following", token)
        return [item["state"] for item in following["items"]] == ["accepted"]

    await wait_until(accepted, within=20, what=f"{target} to accept the follow")


async def _holds(condition: Callable[[], bool | Awaitable[bool]]) -> bool:
    result = condition()
    return await result if inspect.isawaitable(result) else result


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], *, within: float, what: str,
    interval: float = 0.05,
) -> None:
    """Poll ``condition`` until it holds; fail after ``within`` seconds.

    Only for conditions held by another process (its database, its files),
    which no event in this one can announce."""
    try:
        async with asyncio.timeout(within):
            while not await _holds(condition):  # noqa: ASYNC110 - another process's state
                await asyncio.sleep(interval)
    except TimeoutError:
        raise AssertionError(f"gave up after {within:g} s waiting for {what}") from None


class InboxGate:
    """A receiver-side middleware: once armed, lets ``pass_first`` accepted
    inbox POSTs answer, then lets every further one be stored but holds its
    202 until :meth:`open`. To the sender such a delivery is still in flight."""

    def __init__(self) -> None:
        self.armed = False
        self.pass_first = 0
        self.passed = 0
        #: How many answers are (or were) held.
        self.held = 0
        self._holding = asyncio.Event()
        self._released = asyncio.Event()

    def arm(self, pass_first: int) -> None:
        self.armed, self.pass_first = True, pass_first

    async def wait_holding(self, within: float) -> None:
        """Return once at least one answer is being held."""
        try:
            async with asyncio.timeout(within):
                await self._holding.wait()
        except TimeoutError:
            raise AssertionError(f"no inbox answer was held within {within:g} s") from None

    def open(self) -> None:
        """Send the held answers and hold no more."""
        self.armed = False
        self._released.set()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        inbound = request.method == "POST" and request.path.endswith("/inbox")
        if not (self.armed and inbound and response.status == 202):
            return response
        if self.passed < self.pass_first:
            self.passed += 1
            return response
        self.held += 1
        self._holding.set()
        await self._released.wait()
        return response


@dataclass
class GatedNode(Node):
    """An in-process harness node whose inbox answers pass an :class:`InboxGate`."""

    gate: InboxGate = field(default_factory=InboxGate)

    async def start(self) -> GatedNode:
        app = create_app(self.settings, run_workers=False)
        app.middlewares.append(self.gate.middleware)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self.session = aiohttp.ClientSession(base_url=self.url)
        return self


def sender_and_gated_receiver(
    root: Path, cleanup: AsyncExitStack, gate: InboxGate | None = None
) -> tuple[ServedNode, GatedNode]:
    """Sender A (run as processes) and receiver B (in process, its inbox replies
    held by a gate), both torn down by ``cleanup`` even when a test fails."""
    sender = ServedNode("a", root)
    receiver = GatedNode("b", root / "b", gate=gate or InboxGate())
    cleanup.push_async_callback(sender.close)
    cleanup.push_async_callback(receiver.stop)
    cleanup.callback(receiver.gate.open)
    return sender, receiver
