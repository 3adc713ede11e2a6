"""Reputation speed: every member's reputation in a synthetic network
(bench/reputation_sim.py's honest network: 10,000 members, a tenth of them
the node's own, 100,000 attestations over two years).

``compute_all`` computes global trust once (EigenTrust power iteration) and
scores every member from it; the figures split the two. Baseline, in the
same run: one plain pass over the same attestations.

Then the same network is stored in a real node's database (the seeds as its
members, every rating as an attestation) and one member's reputation is
asked of the node's service, as a profile page or ``GET /api/v1/reputation``
does: the first time (the node computes the trust graph), while nothing
changed (the kept graph), and after one more attestation arrives.

``python -m bench reputation [--size quick]``.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import Report, Target, log
from bench.reputation_sim import NOW, Network, honest_network
from bench.servers import init_node
from node.services.context import NodeContext
from node.services.reputation import reputation_of
from node.settings import load_settings
from node.storage import create_storage
from node.storage.records import Attestation
from node.timeutil import now_text, to_text
from protocol.reputation import Rating, compute_all
from protocol.trust import ReputationParams, current_ratings, global_trust

SIZES: dict[str, dict[str, int]] = {
    "tiny": {"members": 200, "attestations": 2_000},
    "quick": {"members": 2_000, "attestations": 20_000},
    "full": {"members": 10_000, "attestations": 100_000},
}
SEED = 7
#: compute_all on the full network should not keep a node's worker busy for long.
TARGET_SECONDS = 10.0


def _seconds(work: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def run(size: str = "full") -> Report:
    sizes = SIZES[size]
    network = honest_network(random.Random(SEED), sizes["members"],
                             seeds=sizes["members"] // 10,
                             exchanges=sizes["attestations"] // 2)
    ratings = network.ratings

    def one_pass() -> int:
        total = 0
        for rating in ratings:
            total += rating.rating + len(rating.issuer) + len(rating.subject)
        return total

    baseline, _ = _seconds(one_pass)
    params = ReputationParams()
    trust_seconds, trust = _seconds(
        lambda: global_trust(current_ratings(ratings), seeds=network.seeds, now=NOW,
                             params=params)
    )
    total_seconds, result = _seconds(
        lambda: compute_all(ratings, seeds=network.seeds, now=NOW, params=params)
    )
    scored = sum(1 for reputation in result.values() if reputation.score is not None)
    served = asyncio.run(_served_by_a_node(network))
    row = {
        "members": len(result), "attestations": len(ratings), "scored": scored,
        "compute_all_s": total_seconds, "trust_s": trust_seconds,
        "scoring_s": max(0.0, total_seconds - trust_seconds),
        "per_member_ms": total_seconds / max(1, len(result)) * 1000,
        "baseline_ms": baseline * 1000, "ratio": total_seconds / baseline,
        "trusted_actors": len(trust),
        **served,
    }
    return Report(
        name="reputation_speed",
        title="Reputation of every member (compute_all)",
        size=size,
        params={**sizes, "seed": SEED, "seeds": len(network.seeds)},
        rows=[row],
        columns=[("members", "members", ","), ("attestations", "attestations", ","),
                 ("compute_all_s", "compute_all s", ".2f"), ("trust_s", "global trust s", ".2f"),
                 ("scoring_s", "scoring s", ".2f"), ("per_member_ms", "ms/member", ".3f"),
                 ("baseline_ms", "one pass ms", ".1f"), ("ratio", "ratio", ".0f"),
                 ("node_first_s", "node first s", ".2f"), ("node_kept_ms", "node kept ms", ".2f"),
                 ("node_changed_s", "node changed s", ".2f")],
        targets=[Target("compute_all seconds", total_seconds, TARGET_SECONDS)],
        notes=["global trust is computed once and every member is scored from it;"
               " scoring includes each member's 90% credible interval (Beta quantiles);"
               " ratio = compute_all / one pass over the attestations",
               "node: one member's reputation through the node's service on SQLite (reading"
               " every attestation, then the trust graph): first ask, median of 20 asks while"
               " nothing changed, first ask after one more attestation"],
    )


async def _served_by_a_node(network: Network) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="kula-bench-reputation-") as temporary:
        data_dir = Path(temporary) / "node"
        await init_node(data_dir, url="http://127.0.0.1:8080")
        settings = load_settings(data_dir)
        storage = create_storage(settings)
        await storage.open()
        try:
            ctx = NodeContext(settings=settings, storage=storage)
            local = {iri: ctx.urls.actor(f"m{index}") for index, iri in enumerate(network.seeds)}
            log(f"reputation: storing {len(network.ratings):,} attestations in a node")
            async with storage.transaction() as tx:
                for index in range(len(network.seeds)):
                    # Members who only seed trust here: their keys are never used.
                    await tx.insert_member(
                        username=f"m{index}", display_name=f"Member {index}",
                        password_hash=None, is_admin=False, rsa_private_pem="unused",
                        ed25519_private_pem="unused", created_at=now_text(),
                    )
                for rating in network.ratings:
                    await tx.save_attestation(_attestation(rating, local))
            subject = local.get(network.honest[-1], network.honest[-1])
            first = await _timed(reputation_of(ctx, subject))
            kept = statistics.median([await _timed(reputation_of(ctx, subject))
                                      for _ in range(20)])
            async with storage.transaction() as tx:
                extra = network.ratings[0]
                await tx.save_attestation(_attestation(
                    Rating(f"{extra.attestation_id}-again", extra.issuer, extra.subject,
                           f"{extra.agreement}-again", 5, extra.issued_at), local))
            changed = await _timed(reputation_of(ctx, subject))
        finally:
            await storage.close()
    return {"node_first_s": first, "node_kept_ms": kept * 1000, "node_changed_s": changed}


async def _timed(work: Any) -> float:
    started = time.perf_counter()
    await work
    return time.perf_counter() - started


def _attestation(rating: Rating, local: dict[str, str]) -> Attestation:
    issued = to_text(rating.issued_at)
    return Attestation(
        iri=rating.attestation_id, issuer_iri=local.get(rating.issuer, rating.issuer),
        subject_iri=local.get(rating.subject, rating.subject), agreement_iri=rating.agreement,
        issuer_role="provider", subject_role="receiver", rating=rating.rating, comment=None,
        valid_from=issued, supersedes=None, document={}, received_at=issued, withdrawn_at=None,
    )


def plot(report: Report, figure: Any) -> None:
    axes = figure.subplots(1, 1)
    row = report.rows[0]
    parts = [("global trust", row["trust_s"]), ("scoring", row["scoring_s"])]
    left = 0.0
    for (name, value), colour in zip(parts, ("tab:blue", "tab:orange"), strict=True):
        axes.barh(["compute_all"], [value], left=left, color=colour, label=f"{name} {value:.2f} s")
        left += value
    axes.set(xlabel="seconds",
             title=f"{row['members']:,} members, {row['attestations']:,} attestations")
    axes.legend(fontsize=8)


def main(size: str) -> Report:
    return run(size)
