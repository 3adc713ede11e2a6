"""Reputation speed: every member's reputation in a synthetic network
(bench/reputation_sim.py's honest network: 10,000 members, a tenth of them
the node's own, 100,000 attestations over two years).

``compute_all`` computes global trust once (EigenTrust power iteration) and
scores every member from it; the figures split the two. Baseline, in the
same run: one plain pass over the same attestations.

``python -m bench reputation [--size quick]``.
"""

from __future__ import annotations

import random
import time
from typing import Any

from bench.report import Report, Target
from bench.reputation_sim import NOW, honest_network
from protocol.reputation import compute_all
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
    row = {
        "members": len(result), "attestations": len(ratings), "scored": scored,
        "compute_all_s": total_seconds, "trust_s": trust_seconds,
        "scoring_s": max(0.0, total_seconds - trust_seconds),
        "per_member_ms": total_seconds / max(1, len(result)) * 1000,
        "baseline_ms": baseline * 1000, "ratio": total_seconds / baseline,
        "trusted_actors": len(trust),
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
                 ("baseline_ms", "one pass ms", ".1f"), ("ratio", "ratio", ".0f")],
        targets=[Target("compute_all seconds", total_seconds, TARGET_SECONDS)],
        notes=["global trust is computed once and every member is scored from it;"
               " scoring includes each member's 90% credible interval (Beta quantiles);"
               " ratio = compute_all / one pass over the attestations"],
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
