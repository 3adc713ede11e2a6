"""What every benchmark shares: the machine it ran on, sizes, timing
statistics, the printed table, the JSON result and the PNG plot.

A benchmark builds a :class:`Report` and hands it to :func:`publish`, which
prints it and writes ``<results>/<name>.json`` and, when matplotlib is
installed, ``<results>/<name>.png``. Speed figures are ratios to a baseline
measured in the same run, because the machines are shared and noisy; the
absolute numbers are kept beside them.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
#: ``tiny`` is for the smoke test, ``quick`` for a look in a minute, ``full`` for the figures.
SIZES = ("tiny", "quick", "full")


@dataclass
class Target:
    """One goal from the issue: ``value`` must be at most (or at least) ``limit``."""

    name: str
    value: float | None
    limit: float
    at_least: bool = False

    @property
    def met(self) -> bool:
        if self.value is None or math.isnan(self.value):
            return False
        return self.value >= self.limit if self.at_least else self.value <= self.limit


@dataclass
class Report:
    name: str
    title: str
    size: str
    params: dict[str, Any]
    #: Table rows; every row has the keys of ``columns``.
    rows: list[dict[str, Any]]
    #: ``(key, header, format)``; format is a ``str.format`` spec such as ``".1f"``.
    columns: list[tuple[str, str, str]]
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=lambda: machine())

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "size": self.size,
            "machine": self.machine,
            "params": self.params,
            "rows": self.rows,
            "targets": [{**asdict(t), "met": t.met} for t in self.targets],
            "notes": self.notes,
            "extra": self.extra,
        }


def machine() -> dict[str, Any]:
    """Where the figures were measured: they mean little without it."""
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = (math.nan,) * 3
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "load_average": [round(value, 2) for value in load],
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99 and max of ``samples`` (any unit), nearest-rank."""
    if not samples:
        return {"p50": math.nan, "p90": math.nan, "p99": math.nan, "max": math.nan}
    ordered = sorted(samples)

    def rank(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]

    return {"p50": rank(0.5), "p90": rank(0.9), "p99": rank(0.99), "max": ordered[-1]}


def mean(samples: Sequence[float]) -> float:
    return statistics.fmean(samples) if samples else math.nan


def format_table(report: Report) -> str:
    headers = [header for _, header, _ in report.columns]
    cells = [
        [_cell(row.get(key), spec) for key, _, spec in report.columns] for row in report.rows
    ]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def _cell(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, (int, float)) and spec:
        return format(value, spec)
    return str(value)


def format_report(report: Report) -> str:
    info = report.machine
    lines = [
        f"== {report.title} ({report.size}) ==",
        f"   {info['nproc']} cores, {info['cpu']}, Python {info['python']},"
        f" load {info['load_average']}",
        format_table(report),
    ]
    for target in report.targets:
        value = "-" if target.value is None else f"{target.value:.4g}"
        relation = ">=" if target.at_least else "<="
        verdict = "met" if target.met else "NOT met"
        lines.append(f"target: {target.name}: {value} {relation} {target.limit:g}: {verdict}")
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)


Plotter = Callable[[Report, Any], None]


def publish(report: Report, results: Path, plotter: Plotter | None = None) -> dict[str, Any]:
    """Print ``report``, write its JSON and (with matplotlib) its PNG; return the JSON."""
    document = report.to_json()
    print(format_report(report), flush=True)
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{report.name}.json").write_text(json.dumps(document, indent=2) + "\n")
    if plotter is not None:
        plt = _pyplot()
        if plt is None:
            print("matplotlib is not installed: no plot (pip install -e '.[bench]')")
        else:
            figure = plt.figure(figsize=(10, 4.8))
            try:
                plotter(report, figure)
                figure.suptitle(f"{report.title} — {report.machine['nproc']} cores,"
                                f" {report.machine['cpu']}", fontsize=9)
                figure.tight_layout()
                figure.savefig(results / f"{report.name}.png", dpi=100)
            finally:
                plt.close(figure)
    return document


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def log(message: str) -> None:
    """Progress for the person waiting, on stderr so tables stay clean."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
