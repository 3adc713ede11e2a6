"""Every benchmark runs end to end at its tiny size and writes a well-formed
result, so the benchmark code cannot rot between `make bench` runs. No
timing is asserted: these sizes say nothing about speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import BENCHMARKS
from bench.__main__ import main as run_bench


def _check_report(document: dict, name: str) -> None:
    assert document["name"] == name and document["size"] == "tiny"
    assert {"nproc", "cpu", "python"} <= set(document["machine"])
    assert document["rows"], "a report without rows"
    for row in document["rows"]:
        assert isinstance(row, dict) and row
    for target in document["targets"]:
        assert set(target) == {"name", "value", "limit", "at_least", "met"}
        assert isinstance(target["met"], bool) and isinstance(target["limit"], int | float)


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_benchmark_writes_a_well_formed_result(name: str, tmp_path: Path) -> None:
    assert run_bench([name, "--size", "tiny", "--results", str(tmp_path)]) == 0
    document = json.loads((tmp_path / f"{BENCHMARKS[name].__name__.split('.')[-1]}.json")
                          .read_text())
    _check_report(document, document["name"])
    rows = document["rows"]
    if name == "inbox":
        node = rows[-1]
        assert node["accepted"] == node["requests"], node  # every signed Create got its 202
        assert document["extra"]["stored"] == document["extra"]["expected_stored"]
    elif name == "fanout":
        row = rows[0]
        assert row["delivered"] == row["inboxes"] == row["received"] > 0
        assert row["followers"] > row["inboxes"]  # shared inboxes were de-duplicated
    elif name == "search":
        kinds = {row["query"] for row in rows}
        assert "all queries" in kinds and len(kinds) > 5
        assert all(row["p99_ms"] >= row["p50_ms"] for row in rows)
    elif name == "footprint":
        assert all(row["rss_mib"] > 0 for row in rows)
        assert document["extra"]["bytes_per_listing"] > 0
    elif name == "reputation":
        assert rows[0]["members"] >= rows[0]["scored"] > 0
    if (tmp_path / f"{document['name']}.png").exists():
        assert (tmp_path / f"{document['name']}.png").stat().st_size > 0


def test_sybil_simulation_writes_its_result(tmp_path: Path) -> None:
    assert run_bench(["sybil", "--size", "tiny", "--results", str(tmp_path)]) == 0
    document = json.loads((tmp_path / "reputation_sim.json").read_text())
    assert document["ring_attack"]["rows"] and document["restart_sweep"]
    assert document["timing"]["scored"] > 0
