"""The SPEC's reputation section is machine-checked: its parameters and its worked example.

Reads the section from SPEC.md once it is merged there, else from
SPEC-reputation.md, and recomputes every number of the worked example.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from pathlib import Path

import pytest

from protocol.reputation import (
    Rating,
    ReputationParams,
    compute_reputation,
    current_ratings,
    global_trust,
    local_trust,
    recency_weight,
)

PROTOCOL = Path(__file__).parents[2] / "protocol"
HEADING = re.compile(r"^## (?:\d+\. )?Reputation$", re.M)


def _section() -> str:
    for name in ("SPEC.md", "SPEC-reputation.md"):
        path = PROTOCOL / name
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if match := HEADING.search(text):
            following = re.compile(r"^## ", re.M).search(text, match.end())
            return text[match.start() : following.start() if following else len(text)]
    raise AssertionError("no '## Reputation' section in protocol/SPEC.md or SPEC-reputation.md")


SECTION = _section()


def _table(marker: str | None = None, after: str | None = None) -> list[dict[str, str]]:
    """The markdown table right after ``<!-- reputation-example: marker -->`` (or a heading)."""
    start = SECTION.index(f"<!-- reputation-example: {marker} -->" if marker else after)
    lines = SECTION[start:].splitlines()[1:]
    lines = lines[next(i for i, line in enumerate(lines) if line.startswith("|")) :]
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().strip("`") for cell in line.strip("|").split("|")])
    header, _, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


def _example_inputs() -> tuple[list[Rating], list[str], datetime]:
    seeds_line = re.search(r"Seeds: `(\w+)`, `(\w+)`\. Now: `([^`]+)`", SECTION)
    assert seeds_line
    now = datetime.fromisoformat(seeds_line.group(3))
    ratings = [
        Rating(row["id"], row["issuer"], row["subject"], row["agreement"], int(row["rating"]),
               datetime.fromisoformat(row["validFrom"]))
        for row in _table("ratings")
    ]
    return ratings, [seeds_line.group(1), seeds_line.group(2)], now


RATINGS, SEEDS, NOW = _example_inputs()
PARAMS = ReputationParams()


@pytest.mark.spec("Kula SPEC Reputation: parameters")
def test_the_parameter_table_lists_every_parameter_with_its_default() -> None:
    table = {row["parameter"]: row["default"] for row in _table(after="### Parameters")}
    fields = {field.name: field.default for field in dataclasses.fields(ReputationParams)}
    assert set(table) == set(fields)
    for name, default in fields.items():
        assert float(table[name]) == default, name


@pytest.mark.spec("Kula SPEC Reputation: worked example")
@pytest.mark.spec("Kula SPEC Reputation: local trust")
def test_worked_example_local_trust() -> None:
    rows = local_trust(current_ratings(RATINGS), now=NOW, params=PARAMS)
    table = _table("local-trust")
    assert {(r["issuer"], r["subject"]) for r in table} == {
        (issuer, subject) for issuer, row in rows.items() for subject in row
    }
    for row in table:
        assert rows[row["issuer"]][row["subject"]] == pytest.approx(float(row["c"]), abs=5e-5)
        given = [r for r in current_ratings(RATINGS)
                 if (r.issuer, r.subject) == (row["issuer"], row["subject"])]
        s = sum(recency_weight(r.issued_at, NOW, 365) * (r.rating - 3) / 2 for r in given)
        assert s == pytest.approx(float(row["s"]), abs=5e-5)


@pytest.mark.spec("Kula SPEC Reputation: worked example")
def test_worked_example_trust() -> None:
    trust = global_trust(current_ratings(RATINGS), seeds=SEEDS, now=NOW, params=PARAMS)
    table = _table("trust")
    assert {row["actor"] for row in table} == set(trust)
    floor = PARAMS.restart_probability / len(SEEDS)
    for row in table:
        assert trust[row["actor"]] == pytest.approx(float(row["τ"]), abs=5e-5)
        assert trust[row["actor"]] * floor == pytest.approx(float(row["t"]), abs=5e-7)


@pytest.mark.spec("Kula SPEC Reputation: worked example")
def test_worked_example_score() -> None:
    result = compute_reputation("dan", RATINGS, seeds=SEEDS, now=NOW)
    by_id = {r.attestation_id: r for r in RATINGS}
    for row in _table("score"):
        rating = by_id[row["id"]]
        weight = result.issuer_weights.get(rating.issuer, 0.0)
        recency = recency_weight(rating.issued_at, NOW, PARAMS.half_life_days)
        assert (rating.issuer, rating.rating) == (row["issuer"], int(row["rating"]))
        assert float(row["x"]) == (rating.rating - 1) / 4
        assert recency == pytest.approx(float(row["w"]), abs=5e-5)
        assert weight == pytest.approx(float(row["u"]), abs=5e-5)
        assert weight * recency == pytest.approx(float(row["ω"]), abs=5e-5)
    expected = {row["quantity"]: row["value"] for row in _table("result")}
    assert result.score is not None
    # The score is a / (a + b) on the 1..5 scale, and a + b = prior + effective weight.
    total = PARAMS.prior_strength + result.effective_weight
    assert (result.score - 1) / 4 * total == pytest.approx(float(expected["a"]), abs=5e-5)
    assert (5 - result.score) / 4 * total == pytest.approx(float(expected["b"]), abs=5e-5)
    for name in ("score", "low", "high"):
        assert getattr(result, name) == pytest.approx(float(expected[name]), abs=5e-5)
    assert result.count == int(expected["count"])
    assert result.effective_weight == pytest.approx(float(expected["effectiveWeight"]), abs=5e-5)
    assert result.trust == pytest.approx(float(expected["trust"]), abs=5e-5)
    assert " ".join(result.evidence) == expected["evidence"]


@pytest.mark.spec("Kula SPEC Reputation: worked example")
def test_worked_example_without_seeds() -> None:
    claim = re.search(r"would\s+have lifted `dan` to (\d\.\d+)", SECTION)
    assert claim
    result = compute_reputation("dan", RATINGS, seeds=(), now=NOW)
    assert result.score == pytest.approx(float(claim.group(1)), abs=5e-5)
