"""How reputation holds up against sybil rings, on a synthetic network; and how fast it is.

A community of honest members trade with each other and rate truthfully:
mostly 4 and 5, while a few bad actors earn 1s and 2s. One bad actor, the
accomplice, then recruits a ring of fresh accounts that rate each other 5 and
back the accomplice with several fabricated agreements each. We compare the
accomplice's score with and without trust weighting as the ring grows, with
the ring either isolated or linked to the honest network by a few genuine good
exchanges. Then ``compute_all`` is timed on 10,000 members and 100,000
attestations, against the time of one pass over the same attestations.

Run with ``python -m bench.reputation_sim`` (``--quick`` for a smaller run);
writes ``bench/results/reputation_sim.json`` and, when matplotlib is
installed, ``bench/results/reputation_sim.png``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from protocol.reputation import Rating, Reputation, ReputationParams, Vouch, compute_all

RESULTS = Path(__file__).resolve().parent / "results"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
GOOD_RATINGS = (5, 5, 5, 5, 5, 5, 4, 4, 4, 3)
BAD_RATINGS = (1, 1, 2, 2, 3)


@dataclass
class Network:
    """A synthetic set of verified ratings with the roles of its actors."""

    seeds: list[str]
    honest: list[str]
    bad: list[str]
    ratings: list[Rating] = field(default_factory=list)

    def exchange(self, first: str, second: str, first_gets: int, second_gets: int, age: float):
        """Both parties of one agreement rate each other."""
        agreement = f"urn:sim:agreement:{len(self.ratings)}"
        when = NOW - timedelta(days=age)
        self.ratings.append(Rating(f"{agreement}#1", second, first, agreement, first_gets, when))
        self.ratings.append(Rating(f"{agreement}#2", first, second, agreement, second_gets, when))


def member(index: int) -> str:
    return f"https://m{index // 100}.example.org/users/{index}"


def honest_network(rng: random.Random, members: int, seeds: int, exchanges: int) -> Network:
    """Members trade at random over two years; bad actors (2%) are rated low."""
    everyone = [member(index) for index in range(members)]
    bad = everyone[seeds : seeds + max(1, members // 50)]
    network = Network(seeds=everyone[:seeds], honest=everyone, bad=bad)
    bad_set = set(bad)
    for _ in range(exchanges):
        first, second = rng.sample(everyone, 2)
        ratings = [rng.choice(BAD_RATINGS if who in bad_set else GOOD_RATINGS)
                   for who in (first, second)]
        network.exchange(first, second, ratings[0], ratings[1], rng.uniform(0, 730))
    return network


def add_ring(
    rng: random.Random, network: Network, accomplice: str, size: int, links: int, fakes: int
) -> list[str]:
    """Fresh accounts that rate each other 5 and back ``accomplice`` with fabricated deals.

    ``links`` ring members also had one genuine good exchange with an honest member.
    """
    ring = [f"https://sybil.example.net/users/{accomplice[-3:]}-{index}" for index in range(size)]
    for position, first in enumerate(ring):
        for second in ring[position + 1 :]:
            network.exchange(first, second, 5, 5, rng.uniform(0, 60))
        for _ in range(fakes):
            network.exchange(first, accomplice, 5, 5, rng.uniform(0, 60))
    good_partners = [m for m in network.honest if m not in set(network.bad)]
    # Its own generator, so every ring size links to the same honest members.
    partners = random.Random(len(network.honest)).sample(good_partners, links)
    for first, partner in zip(ring, partners, strict=False):
        network.exchange(first, partner, 5, 5, rng.uniform(0, 365))
    return ring


def ring_weight(reputation: Reputation, ring: list[str]) -> float:
    """The summed trust weight of the ring members whose ratings counted."""
    return sum(reputation.issuer_weights.get(account, 0.0) for account in ring)


def summary(reputation: Reputation) -> dict[str, Any]:
    return {
        "score": reputation.score, "low": reputation.low, "high": reputation.high,
        "count": reputation.count, "effective_weight": reputation.effective_weight,
    }


def ring_attack(rng_seed: int, sizes: list[int], params: ReputationParams) -> dict[str, Any]:
    """The accomplice's reputation as the ring grows, with and without trust weighting."""
    rows = []
    reference: dict[str, Any] = {}
    for links in (0, 5):
        for size in sizes:
            rng = random.Random(rng_seed)
            network = honest_network(rng, members=500, seeds=50, exchanges=3000)
            accomplice = network.bad[0]
            ring = add_ring(rng, network, accomplice, size, links, fakes=3)
            trusted = compute_all(network.ratings, seeds=network.seeds, now=NOW, params=params)
            naive = compute_all(network.ratings, seeds=(), now=NOW, params=params)
            if not reference:
                good = [trusted[m].score for m in network.honest[50:] if m not in network.bad]
                reference = {
                    "honest_median_score": statistics.median(s for s in good if s is not None),
                    "bad_median_score": statistics.median(
                        trusted[m].score for m in network.bad[1:] if trusted[m].score
                    ),
                }
            rows.append({
                "ring_size": size, "honest_links": links,
                "trusted": summary(trusted[accomplice]),
                "naive": summary(naive[accomplice]),
                "ring_weight_trusted": ring_weight(trusted[accomplice], ring),
                "ring_weight_naive": ring_weight(naive[accomplice], ring),
                "ring_mean_trust": statistics.fmean(trusted[a].trust for a in ring) if ring else 0,
            })
    return {"reference": reference, "rows": rows}


def restart_sweep(rng_seed: int, params: ReputationParams) -> list[dict[str, Any]]:
    """A 50-account ring with 5 honest links, under several restart probabilities."""
    rows = []
    for alpha in (0.05, 0.15, 0.3, 0.5):
        rng = random.Random(rng_seed)
        network = honest_network(rng, members=500, seeds=50, exchanges=3000)
        accomplice = network.bad[0]
        ring = add_ring(rng, network, accomplice, 50, links=5, fakes=3)
        swept = ReputationParams(**{**asdict(params), "restart_probability": alpha})
        result = compute_all(network.ratings, seeds=network.seeds, now=NOW, params=swept)
        honest_weights = [result[m].effective_weight for m in network.honest[50:]]
        rows.append({
            "restart_probability": alpha,
            "accomplice_score": result[accomplice].score,
            "ring_weight": ring_weight(result[accomplice], ring),
            "honest_median_weight": statistics.median(honest_weights),
        })
    return rows


def vouch_scenario(rng_seed: int, params: ReputationParams) -> list[dict[str, Any]]:
    """Vouches as trust edges: a newcomer vouched for by three established members,
    against rings of fresh accounts that all vouch for each other, one of which
    a careless member also vouches for."""
    rows = []
    for size in (5, 20, 100):
        rng = random.Random(rng_seed)
        network = honest_network(rng, members=500, seeds=50, exchanges=3000)
        newcomer = "https://new.example.org/users/newcomer"
        ring = [f"https://fresh.example.net/users/{index}" for index in range(size)]
        when = NOW - timedelta(days=1)
        vouches = [Vouch(f"urn:sim:vouch:{a}:{b}", a, b, when)
                   for a in ring for b in ring if a != b]
        vouches += [Vouch(f"urn:sim:vouch:n{index}", voucher, newcomer, when)
                    for index, voucher in enumerate(network.honest[60:63])]
        vouches.append(Vouch("urn:sim:vouch:careless", network.honest[70], ring[0], when))
        result = compute_all(network.ratings, seeds=network.seeds, now=NOW, params=params,
                             vouches=vouches)
        ring_trust = [result[account].trust for account in ring]
        rows.append({
            "ring_size": size,
            "newcomer_trust": result[newcomer].trust,
            "ring_total_trust": sum(ring_trust),
            "ring_max_trust": max(ring_trust),
            "honest_median_trust": statistics.median(
                result[m].trust for m in network.honest[50:] if m not in network.bad
            ),
        })
    return rows


def timing(rng_seed: int, members: int, attestations: int) -> dict[str, Any]:
    """compute_all's time against one pass over the attestations, in the same run."""
    rng = random.Random(rng_seed)
    network = honest_network(rng, members, seeds=members // 10, exchanges=attestations // 2)
    started = time.perf_counter()
    checksum = 0
    for rating in network.ratings:
        checksum += rating.rating + len(rating.issuer) + len(rating.subject)
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    result = compute_all(network.ratings, seeds=network.seeds, now=NOW)
    elapsed = time.perf_counter() - started
    return {
        "members": members, "attestations": len(network.ratings), "scored": len(result),
        "compute_all_seconds": elapsed, "one_pass_seconds": baseline,
        "ratio": elapsed / baseline, "checksum": checksum,
    }


def plot(attack: dict[str, Any], path: Path) -> bool:
    """Two panels: the accomplice's score band, and the ring's weight, against ring size."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, (scores, weights) = plt.subplots(1, 2, figsize=(12, 4.8))
    styles = [("naive", 0, "tab:red", "no trust weighting"),
              ("trusted", 0, "tab:blue", "EigenTrust, isolated ring"),
              ("trusted", 5, "tab:green", "EigenTrust, ring with 5 honest links")]
    for kind, links, colour, label in styles:
        rows = [row for row in attack["rows"] if row["honest_links"] == links]
        sizes = [row["ring_size"] for row in rows]
        middle = [row[kind]["score"] for row in rows]
        scores.plot(sizes, middle, "o-", color=colour, label=label)
        scores.fill_between(sizes, [row[kind]["low"] for row in rows],
                            [row[kind]["high"] for row in rows], color=colour, alpha=0.1)
        key = "ring_weight_naive" if kind == "naive" else "ring_weight_trusted"
        weights.plot(sizes, [row[key] for row in rows], "o-", color=colour, label=label)
    reference = attack["reference"]
    scores.axhline(reference["honest_median_score"], color="grey", ls="--",
                   label="median honest member")
    scores.axhline(reference["bad_median_score"], color="black", ls=":",
                   label="median bad actor")
    scores.set(xlabel="sybil ring size (accounts)", ylabel="accomplice's score (1-5)",
               title="Accomplice's score and 90% interval", ylim=(1, 5))
    scores.legend(fontsize=8, loc="lower right")
    weights.set_yscale("symlog", linthresh=1.0)
    weights.set(xlabel="sybil ring size (accounts)",
                ylabel="ring's weight in the score (fresh ratings)",
                title="Weight the ring's ratings carry")
    weights.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small ring sizes, small timing")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write results")
    options = parser.parse_args(argv)
    params = ReputationParams()
    sizes = [0, 5, 20] if options.quick else [0, 5, 10, 20, 50, 100]
    attack = ring_attack(options.seed, sizes, params)
    sweep = restart_sweep(options.seed, params)
    vouching = vouch_scenario(options.seed, params)
    speed = timing(options.seed, *((1_000, 10_000) if options.quick else (10_000, 100_000)))
    print(format_report(attack, sweep, speed))
    print("\nring  newcomer trust  ring total  ring max  honest median (vouches)")
    print("\n".join(f"{r['ring_size']:4}  {r['newcomer_trust']:14.3f}  "
                    f"{r['ring_total_trust']:10.3f}  {r['ring_max_trust']:8.3f}  "
                    f"{r['honest_median_trust']:13.3f}" for r in vouching))
    options.results.mkdir(parents=True, exist_ok=True)
    document = {"params": asdict(params), "ring_attack": attack, "restart_sweep": sweep,
                "vouches": vouching,
                "timing": speed}
    (options.results / "reputation_sim.json").write_text(json.dumps(document, indent=2) + "\n")
    if not plot(attack, options.results / "reputation_sim.png"):
        print("matplotlib is not installed: no plot (pip install -e '.[bench]')")
    return 0


def format_report(attack: dict[str, Any], sweep: list[dict[str, Any]], speed: dict[str, Any]):
    """The results as plain-text tables."""
    reference = attack["reference"]
    lines = [f"median honest member {reference['honest_median_score']:.2f}, "
             f"median bad actor {reference['bad_median_score']:.2f}", "",
             "links  ring  naive score [90%]      weight | trusted score [90%]    weight  trust"]
    for row in attack["rows"]:
        naive, trusted = row["naive"], row["trusted"]
        lines.append(
            f"{row['honest_links']:5}  {row['ring_size']:4}  "
            f"{naive['score']:.2f} [{naive['low']:.2f}, {naive['high']:.2f}] "
            f"{row['ring_weight_naive']:8.2f} | "
            f"{trusted['score']:.2f} [{trusted['low']:.2f}, {trusted['high']:.2f}] "
            f"{row['ring_weight_trusted']:8.3f}  {row['ring_mean_trust']:.4f}"
        )
    lines += ["", "restart  accomplice  ring weight  honest median weight"]
    lines += [f"{r['restart_probability']:7.2f}  {r['accomplice_score']:10.2f}  "
              f"{r['ring_weight']:11.3f}  {r['honest_median_weight']:20.2f}" for r in sweep]
    lines += ["", f"compute_all on {speed['members']} members, {speed['attestations']} "
              f"attestations: {speed['compute_all_seconds']:.2f} s = {speed['ratio']:.0f} x "
              f"one pass over them ({speed['one_pass_seconds'] * 1000:.1f} ms)"]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
