"""Run the benchmarks: ``python -m bench [NAME ...] [--size tiny|quick|full]``.

Names: inbox, fanout, search, footprint, reputation (speed), sybil (the
reputation simulation). Without names, all of them, in that order (the
million-listing search and the footprint that reuses its database last).
Each prints a table and writes ``<results>/<name>.json`` and ``.png``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from bench import fanout, footprint, inbox_throughput, reputation_sim, reputation_speed, search
from bench.report import RESULTS, SIZES, Report, log, publish

BENCHMARKS: dict[str, ModuleType] = {
    "reputation": reputation_speed,
    "inbox": inbox_throughput,
    "fanout": fanout,
    "search": search,
    "footprint": footprint,
}


def run_benchmark(name: str, size: str, results: Path, **options: Any) -> dict[str, Any]:
    """Run one benchmark and publish it; returns its JSON document."""
    module = BENCHMARKS[name]
    report: Report = module.main(size, **options)
    return publish(report, results, module.plot)


def _sybil(size: str, results: Path) -> int:
    return reputation_sim.main([*(["--quick"] if size != "full" else []),
                                "--results", str(results)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"any of {', '.join([*BENCHMARKS, 'sybil'])} (default: all)")
    parser.add_argument("--size", choices=SIZES, default="full",
                        help="tiny (smoke test), quick (a minute or two) or full (default)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write results")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="inbox only: profile the node with pyinstrument into FILE")
    options = parser.parse_args(argv)
    names = options.names or [*BENCHMARKS, "sybil"]
    unknown = [name for name in names if name not in BENCHMARKS and name != "sybil"]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}")
    runs: dict[str, Callable[[], object]] = {}
    for name in names:
        if name == "sybil":
            runs[name] = lambda: _sybil(options.size, options.results)
        elif name == "inbox" and options.profile:
            runs[name] = lambda: run_benchmark(
                "inbox", options.size, options.results, profile_to=options.profile
            )
        elif name in ("search", "footprint"):
            runs[name] = lambda name=name: run_benchmark(
                name, options.size, options.results, cache=options.results / "cache"
            )
        else:
            runs[name] = lambda name=name: run_benchmark(name, options.size, options.results)
    for name, work in runs.items():
        started = time.perf_counter()
        log(f"{name}: starting ({options.size})")
        work()
        log(f"{name}: done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
