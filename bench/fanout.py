"""Delivery fan-out: one listing, published by a member of a real ``kula
serve`` process (workers on), delivered to every follower. The followers are
spread over many other servers, each a loopback port of one receiver process
(bench/receivers.py) with a shared inbox, so the node sends one delivery per
server, not per follower.

Measured from the ``POST /api/v1/listings`` to the moment the node has
recorded every delivery as delivered. Baseline, in the same run: the
benchmark itself signing and posting the same number of deliveries to the
same receivers, with the node's concurrency and no database.

``python -m bench fanout [--size quick]``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.actors import make_identities, store_identities
from bench.report import Report, Target, log
from bench.servers import ROOT, free_port, init_node, node_server
from node.ids import new_id
from node.services import accounts, tokens
from node.services.context import NodeContext
from node.settings import load_settings
from node.storage import create_storage
from node.storage.records import Follow
from node.timeutil import now_text
from protocol.httpsig import sign_request

SIZES: dict[str, dict[str, int]] = {
    "tiny": {"servers": 5, "followers": 20},
    "quick": {"servers": 200, "followers": 2_000},
    "full": {"servers": 1_000, "followers": 10_000},
}
TARGET_SECONDS = 10.0
#: The node's own delivery concurrency (DeliveryWorker's global_limit).
CONCURRENCY = 32


class Receivers:
    """The receiver process and the ports it listens on."""

    def __init__(self, count: int, work: Path) -> None:
        self.count = count
        self.ports_file = work / "receiver-ports.json"
        self.log_path = work / "receivers.log"
        self.process: asyncio.subprocess.Process | None = None
        self.ports: list[int] = []

    async def __aenter__(self) -> Receivers:
        with self.log_path.open("ab") as log_file:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.receivers", str(self.count), str(self.ports_file),
                cwd=ROOT, stdout=log_file, stderr=log_file,
            )
        deadline = time.monotonic() + 60
        while not self.ports_file.exists():
            if self.process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the receivers did not start; see {self.log_path}")
            await asyncio.sleep(0.05)
        self.ports = json.loads(self.ports_file.read_text())
        return self

    async def stats(self) -> dict[str, int]:
        async with aiohttp.ClientSession() as session, session.get(
            f"http://127.0.0.1:{self.ports[0]}/stats"
        ) as response:
            return await response.json()

    async def __aexit__(self, *exc: object) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


async def _prepare_node(
    data_dir: Path, ports: list[int], followers: int
) -> tuple[str, int]:
    """A member with ``followers`` remote followers over the servers at ``ports``;
    returns the member's API token and how many distinct inboxes they use."""
    settings = load_settings(data_dir)
    storage = create_storage(settings)
    await storage.open()
    try:
        ctx = NodeContext(settings=settings, storage=storage)
        member = await accounts.create_member(ctx, "alice", password="bench password 1234")
        token = (await tokens.issue_token(ctx, member, "bench", "write")).secret
        alice = ctx.urls.actor("alice")
        # Generating an RSA key per follower would take minutes; they never sign here.
        keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048)]
        identities = make_identities(
            followers, [f"http://127.0.0.1:{port}" for port in ports], rsa_keys=keys
        )
        await store_identities(storage, identities)
        now = now_text()
        async with storage.transaction() as session:
            for identity in identities:
                await session.upsert_follow(Follow(
                    id=new_id(), follower_iri=identity.iri, followee_iri=alice,
                    state="accepted", activity_iri=f"{identity.iri}/follows/{new_id()}",
                    created_at=now, updated_at=now,
                ))
        async with storage.read() as session:
            inboxes = len(await session.follower_inboxes(alice))
    finally:
        await storage.close()
    return token, inboxes


async def _watch_deliveries(
    data_dir: Path, expected: int, started: float, time_limit: float
) -> dict[str, Any]:
    """Poll the node's database until ``expected`` deliveries are settled."""
    storage = create_storage(load_settings(data_dir))
    await storage.open()
    queued_at = None
    counts: dict[str, int] = {}
    try:
        while time.perf_counter() - started < time_limit:
            async with storage.read() as session:
                counts = await session.delivery_counts()
            if queued_at is None and sum(counts.values()) >= expected:
                queued_at = time.perf_counter() - started
            if counts.get("delivered", 0) + counts.get("failed", 0) >= expected:
                break
            # Polling is the measurement here; 20 ms is the resolution of the figures.
            await asyncio.sleep(0.02)
    finally:
        await storage.close()
    return {"counts": counts, "seconds": time.perf_counter() - started,
            "queued_seconds": queued_at}


async def _baseline(ports: list[int]) -> float:
    """Seconds for this process to sign and post one delivery per port, 32 at a time."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    body = json.dumps({"type": "Create", "object": {"content": "x" * 1500}}).encode()
    limit = asyncio.Semaphore(CONCURRENCY)

    async def post(session: aiohttp.ClientSession, port: int) -> int:
        url = f"http://127.0.0.1:{port}/inbox"
        async with limit:
            headers = sign_request(
                "POST", url, {"Content-Type": "application/activity+json"}, body,
                key_id="http://127.0.0.1/users/bench#main-key", private_key=key,
            )
            async with session.post(url, data=body, headers=headers) as response:
                return response.status

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        statuses = await asyncio.gather(*(post(session, port) for port in ports))
    if set(statuses) != {202}:
        raise RuntimeError(f"the receivers refused baseline posts: {set(statuses)}")
    return time.perf_counter() - started


async def run(size: str = "full") -> Report:
    sizes = SIZES[size]
    with tempfile.TemporaryDirectory(prefix="kula-bench-fanout-") as temporary:
        work = Path(temporary)
        async with Receivers(sizes["servers"], work) as receivers:
            log(f"fanout: {sizes['servers']} receiving servers up; baseline")
            baseline = await _baseline(receivers.ports)
            before = (await receivers.stats())["total"]
            port = free_port()
            url = await init_node(work / "node", port)
            log(f"fanout: storing {sizes['followers']} remote followers")
            token, inboxes = await _prepare_node(work / "node", receivers.ports,
                                                 sizes["followers"])
            async with node_server(work / "node", port, workers=True) as node:
                log("fanout: publishing one listing")
                started = time.perf_counter()
                async with aiohttp.ClientSession() as session, session.post(
                    f"{url}/api/v1/listings", json=_listing(),
                    headers={"Authorization": f"Bearer {token}"},
                ) as response:
                    if response.status != 201:
                        raise RuntimeError(f"listing refused: {await response.text()}")
                answered = time.perf_counter() - started
                watched = await _watch_deliveries(work / "node", inboxes, started, 300.0)
                cpu = node.cpu_seconds()
            received = (await receivers.stats())["total"] - before

    delivered = watched["counts"].get("delivered", 0)
    seconds = watched["seconds"]
    row = {
        "followers": sizes["followers"], "inboxes": inboxes, "delivered": delivered,
        "failed": watched["counts"].get("failed", 0), "received": received,
        "api_ms": answered * 1000, "queued_s": watched["queued_seconds"],
        "seconds": seconds, "per_second": delivered / seconds if seconds else 0.0,
        "baseline_seconds": baseline, "ratio": baseline / seconds if seconds else 0.0,
        "node_cpu_seconds": cpu,
    }
    return Report(
        name="fanout",
        title="Delivery fan-out: one listing to every follower's server",
        size=size,
        params=sizes,
        rows=[row],
        columns=[("followers", "followers", "d"), ("inboxes", "inboxes", "d"),
                 ("delivered", "delivered", "d"), ("seconds", "all delivered s", ".2f"),
                 ("per_second", "deliveries/s", ".0f"), ("baseline_seconds", "baseline s", ".2f"),
                 ("ratio", "ratio", ".3f"), ("received", "received", "d")],
        targets=[Target("seconds until every inbox has it", seconds, TARGET_SECONDS)],
        notes=[
            f"{sizes['followers'] // max(1, inboxes)} followers per server share its inbox;"
            " the node signs every delivery (draft-cavage rsa-sha256)",
            "baseline: this process signing and posting the same number of deliveries"
            f" ({CONCURRENCY} at a time, no database); ratio = baseline / node time",
        ],
    )


def _listing() -> dict[str, Any]:
    return {
        "purpose": "offer", "mode": "lend", "title": "Ladder, 3 m, aluminium",
        "description": "Folding ladder; pick up in the evening.", "categories": ["tools"],
        "location": {"latitude": 52.52, "longitude": 13.405, "precision": "street"},
    }


def plot(report: Report, figure: Any) -> None:
    axes = figure.subplots(1, 1)
    row = report.rows[0]
    names = ["baseline (sign + post)", "kula (queue, sign, post, record)"]
    values = [row["baseline_seconds"], row["seconds"]]
    axes.barh(names, values, color=["grey", "tab:blue"])
    axes.axvline(TARGET_SECONDS, color="red", ls="--", label=f"target {TARGET_SECONDS:g} s")
    for position, value in enumerate(values):
        axes.annotate(f"{value:.2f} s", (value, position), va="center", fontsize=8)
    axes.set(xlabel="seconds until every server has the listing",
             title=f"{row['followers']} followers on {row['inboxes']} servers")
    axes.legend(fontsize=8)


def main(size: str) -> Report:
    return asyncio.run(run(size))
