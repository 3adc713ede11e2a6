"""Footprint: start-up time and resident memory of ``kula serve``, idle on a
new node and after serving the search benchmark's query mix over HTTP on the
largest synthetic catalogue; and database size per listing.

Baseline, in the same run: the bare aiohttp process of the inbox benchmark
(Python, aiohttp and nothing else), started and measured the same way.

``python -m bench footprint [--size quick]``.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bench.report import Report, log, percentiles
from bench.search import QUERIES, SEED
from bench.search import SIZES as SEARCH_SIZES
from bench.servers import ServerProcess, bare_server, free_port, init_node, node_server
from bench.synthetic import corpus, search_node

SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"listings": 2_000, "repeats": 2, "settle": 0.2},
    "quick": {"listings": 100_000, "repeats": 10, "settle": 1.0},
    "full": {"listings": 1_000_000, "repeats": 20, "settle": 1.0},
}
MIB = 1 << 20


async def _settled_rss(server: ServerProcess, settle: float) -> int:
    # A moment for start-up allocations to settle; the figure is what stays.
    await asyncio.sleep(settle)
    return server.rss_bytes()


async def _query_mix(port: int, repeats: int) -> list[float]:
    """The search benchmark's queries over HTTP; returns each one's latency."""
    data = corpus(SEED)
    rng = random.Random(SEED + 1)
    latencies = []
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as session:
        for query in QUERIES:
            for _ in range(repeats):
                path = "/api/v1/search?" + urlencode(query.make(rng, data))
                started = time.perf_counter()
                async with session.get(path) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{path}: {response.status}")
                latencies.append(time.perf_counter() - started)
    return latencies


def _database_bytes(data_dir: Path) -> int:
    return sum(path.stat().st_size for path in data_dir.glob("kula.sqlite3*"))


async def run(size: str = "full", *, cache: Path | None = None) -> Report:
    sizes = SIZES[size]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="kula-bench-footprint-") as temporary:
        work = Path(temporary)
        bare_port = free_port()
        async with bare_server(bare_port, work / "bare.log") as bare:
            bare_rss = await _settled_rss(bare, sizes["settle"])
        rows.append({"what": "bare aiohttp (baseline)", "startup_s": bare.startup_seconds,
                     "rss_mib": bare_rss / MIB, "startup_ratio": 1.0, "rss_ratio": 1.0})
        port = free_port()
        await init_node(work / "node", port)
        async with node_server(work / "node", port, workers=True) as node:
            idle_rss = await _settled_rss(node, sizes["settle"])
        rows.append({"what": "kula serve, new node, idle", "startup_s": node.startup_seconds,
                     "rss_mib": idle_rss / MIB,
                     "startup_ratio": node.startup_seconds / bare.startup_seconds,
                     "rss_ratio": idle_rss / bare_rss})

    count = sizes["listings"]
    data_dir = await search_node(count, SEED, cache=cache)
    port = free_port()
    log(f"footprint: serving {count:,} listings, running the search mix over HTTP")
    async with node_server(data_dir, port) as node:
        loaded_idle = await _settled_rss(node, sizes["settle"])
        latencies = await _query_mix(port, sizes["repeats"])
        after = node.rss_bytes()
    database = _database_bytes(data_dir)
    http = percentiles(latencies)
    rows.append({"what": f"kula serve, {count:,} listings, idle",
                 "startup_s": node.startup_seconds, "rss_mib": loaded_idle / MIB,
                 "startup_ratio": node.startup_seconds / bare.startup_seconds,
                 "rss_ratio": loaded_idle / bare_rss})
    rows.append({"what": f"kula serve, {count:,} listings, after the search mix",
                 "rss_mib": after / MIB, "rss_ratio": after / bare_rss})
    notes = [
        f"database: {database / MIB:,.0f} MiB for {count:,} listings,"
        f" {database / count / 1024:.2f} KiB per listing (rows keep each listing's signed"
        " document; indexes and full-text index included)",
        f"search mix over HTTP: p50 {http['p50'] * 1000:.1f} ms, p99 {http['p99'] * 1000:.1f} ms"
        f" ({len(latencies)} requests, one at a time)",
        "start-up: from spawning the process to its first 200 on /healthz",
    ]
    return Report(
        name="footprint",
        title="Footprint: start-up, memory, database size",
        size=size,
        params={**sizes, "search_sizes": SEARCH_SIZES[size]},
        rows=rows,
        columns=[("what", "process", ""), ("startup_s", "start-up s", ".2f"),
                 ("startup_ratio", "ratio", ".1f"), ("rss_mib", "RSS MiB", ".1f"),
                 ("rss_ratio", "ratio", ".1f")],
        notes=notes,
        extra={"database_bytes": database, "listings": count,
               "bytes_per_listing": database / count,
               "http_search_ms": {key: value * 1000 for key, value in http.items()}},
    )


def plot(report: Report, figure: Any) -> None:
    memory, startup = figure.subplots(1, 2)
    names = [row["what"] for row in report.rows]
    memory.barh(names, [row["rss_mib"] for row in report.rows], color="tab:blue")
    memory.set(xlabel="resident memory (MiB)", title="Memory")
    memory.invert_yaxis()
    memory.tick_params(axis="y", labelsize=7)
    timed = [row for row in report.rows if row.get("startup_s") is not None]
    startup.barh([row["what"] for row in timed], [row["startup_s"] for row in timed],
                 color="tab:green")
    startup.set(xlabel="seconds to first /healthz", title="Start-up")
    startup.invert_yaxis()
    startup.tick_params(axis="y", labelsize=7)


def main(size: str, cache: Path | None = None) -> Report:
    return asyncio.run(run(size, cache=cache))
