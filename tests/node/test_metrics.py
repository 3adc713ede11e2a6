"""``/metrics``: the Prometheus text format, request figures, database figures
and who may read them."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, make_mocked_request

from node.metrics import (
    CONTENT_TYPE,
    MetricFamily,
    RequestMetrics,
    escape_label_value,
    format_value,
    render,
)
from node.services import listings
from node.services.context import NodeContext
from node.timeutil import to_text, utc_now
from node.typedefs import metrics_key
from node.web.metrics import is_direct_loopback
from tests.backends import BACKENDS
from tests.conftest import MemberFactory
from tests.node.helpers import assert_problem, execute, listing_body

_SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)'
    r'(?:\{(?P<labels>(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})?'
    r' (?P<value>\S+)$'
)
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database figures are SQL: check them on both backends."""
    return str(request.param)


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def parse_exposition(text: str) -> tuple[dict[str, str], Series]:
    """A strict reader of format 0.0.4: every sample belongs to a family whose
    HELP and TYPE come first; returns the types and every sample's value."""
    assert text.endswith("\n")
    types: dict[str, str] = {}
    helped: set[str] = set()
    series: Series = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            assert name not in helped, f"HELP twice for {name}"
            helped.add(name)
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in {"counter", "gauge", "histogram", "summary", "untyped"}
            assert name in helped and name not in types
            types[name] = kind
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name = match["name"]
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert family in types, f"{name} has no TYPE before it"
        labels = frozenset(
            (key, _unescape(value)) for key, value in _LABEL.findall(match["labels"] or "")
        )
        key = (name, labels)
        assert key not in series, f"duplicate series {key}"
        series[key] = float(match["value"])
    return types, series


def value(series: Series, name: str, **labels: str) -> float:
    return series[(name, frozenset(labels.items()))]


async def scrape(client: TestClient, **headers: str) -> tuple[dict[str, str], Series]:
    client.app[metrics_key].figures_ttl = 0  # every scrape reads the database
    response = await client.get("/metrics", headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == CONTENT_TYPE
    return parse_exposition(await response.text())


@pytest.mark.spec("Prometheus exposition format 0.0.4: label values")
def test_label_values_are_escaped_and_read_back() -> None:
    nasty = 'a "quoted" \\ back\nslash'
    assert escape_label_value(nasty) == 'a \\"quoted\\" \\\\ back\\nslash'
    text = render([MetricFamily("x_total", "counter", "Help with \\ and\nline.").add(
        3, path=nasty)])
    assert "# HELP x_total Help with \\\\ and\\nline.\n" in text
    _, series = parse_exposition(text)
    assert value(series, "x_total", path=nasty) == 3


@pytest.mark.spec("Prometheus exposition format 0.0.4: sample values")
def test_values_are_written_as_prometheus_reads_them() -> None:
    assert format_value(7) == "7"
    assert format_value(2.0) == "2"
    assert float(format_value(0.1)) == 0.1
    assert format_value(math.inf) == "+Inf"
    assert format_value(-math.inf) == "-Inf"
    assert format_value(math.nan) == "NaN"


@pytest.mark.spec("Prometheus exposition format 0.0.4: histograms")
def test_histogram_buckets_are_cumulative_and_inclusive() -> None:
    metrics = RequestMetrics(buckets=(0.1, 1.0))
    for seconds in (0.05, 0.1, 0.5, 1.0, 3.0):
        metrics.observe("GET", "/x", 200, seconds)
    types, series = parse_exposition(render(metrics.families()))
    assert types["kula_http_request_duration_seconds"] == "histogram"
    bucket = "kula_http_request_duration_seconds_bucket"
    # "le" means less than or equal: 0.1 falls in the 0.1 bucket, 1.0 in the 1 bucket.
    assert value(series, bucket, method="GET", route="/x", le="0.1") == 2
    assert value(series, bucket, method="GET", route="/x", le="1") == 4
    assert value(series, bucket, method="GET", route="/x", le="+Inf") == 5
    assert value(series, "kula_http_request_duration_seconds_count", method="GET",
                 route="/x") == 5
    assert value(series, "kula_http_request_duration_seconds_sum", method="GET",
                 route="/x") == pytest.approx(4.65)
    assert value(series, "kula_http_requests_total", method="GET", route="/x",
                 status="200") == 5


@pytest.mark.spec("Kula operations: /metrics request figures")
async def test_requests_are_counted_by_route_template_and_final_status(
    client: TestClient, make_member: MemberFactory
) -> None:
    await make_member("alice")
    for _ in range(2):
        assert (await client.get("/healthz")).status == 200
    assert (await client.get("/users/alice")).status == 200
    assert (await client.get("/no/such/page")).status == 404
    # Turned into a 401 problem by the problem middleware, which runs inside ours.
    await assert_problem(await client.get("/api/v1/me"), 401, "unauthorized")
    _, series = await scrape(client)
    total = "kula_http_requests_total"
    assert value(series, total, method="GET", route="/healthz", status="200") == 2
    assert value(series, total, method="GET", route="/users/{username}", status="200") == 1
    assert value(series, total, method="GET", route="unmatched", status="404") == 1
    assert value(series, total, method="GET", route="/api/v1/me", status="401") == 1
    assert not any("alice" in label for (_, labels) in series for _, label in labels)
    # The scrape being answered is the one request in flight.
    assert value(series, "kula_http_requests_in_flight") == 1


@pytest.mark.spec("Kula operations: /metrics queue and federation figures")
async def test_database_figures_match_the_rows(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    # Publishing queues a job of its own: done before the baseline is read.
    await listings.create_listing(ctx, alice.member, listing_body())
    _, before = await scrape(client)
    await make_member("bob")
    mallory = await make_member("mallory")
    await execute(ctx, "UPDATE members SET suspended_at = ? WHERE id = ?",
                  (to_text(utc_now()), mallory.member.id))
    hour_ago = to_text(utc_now() - timedelta(hours=1))
    now = to_text(utc_now())
    deliveries = [  # state, attempts, last status, created
        ("new", 0, None, now), ("retrying", 3, 503, hour_ago), ("retrying", 1, None, now),
        ("delivered", 1, 202, now), ("delivered", 2, 200, now), ("failed", 4, 410, now),
    ]
    for number, (state, attempts, status, created) in enumerate(deliveries):
        host = "down.example" if state in {"retrying", "failed"} else "up.example"
        await execute(
            ctx,
            "INSERT INTO deliveries (activity_iri, actor_iri, inbox, host, state, attempts,"
            " next_attempt_at, last_status, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (f"https://here.example/a/{number}", "https://here.example/users/alice",
             f"https://{host}/inbox{number}", host, state, attempts, now, status, created, now),
        )
    for state in ("new", "done", "done", "failed"):
        await execute(
            ctx, "INSERT INTO jobs (kind, payload, state, next_attempt_at, created_at,"
            " updated_at) VALUES ('inbox', '{}', ?, ?, ?, ?)", (state, now, now, now),
        )
    outcomes = [None, "applied", "applied: offer", "ignored: nobody here follows the author",
                "rejected", "unsupported", "something new"]
    for number, outcome in enumerate(outcomes):
        await execute(
            ctx, "INSERT INTO inbox_activities (iri, actor_iri, type, document, received_at,"
            " outcome) VALUES (?, ?, 'Create', '{}', ?, ?)",
            (f"https://there.example/a/{number}", "https://there.example/users/bob", now,
             outcome),
        )
    for name in ("bob", "carol"):
        await execute(
            ctx, "INSERT INTO remote_actors (iri, host, type, inbox, document, fetched_at,"
            " expires_at) VALUES (?, 'there.example', 'Person', ?, '{}', ?, ?)",
            (f"https://there.example/users/{name}", f"https://there.example/users/{name}/inbox",
             now, now),
        )

    _, after = await scrape(client)
    assert {state: value(after, "kula_deliveries", state=state) for state in
            ("new", "sending", "retrying", "delivered", "failed")} == {
        "new": 1, "sending": 0, "retrying": 2, "delivered": 2, "failed": 1}
    assert value(after, "kula_delivery_attempts", state="retrying") == 4
    assert value(after, "kula_delivery_attempts", state="delivered") == 3
    assert {cls: value(after, "kula_deliveries_last_response", **{"class": cls})
            for cls in ("2xx", "3xx", "4xx", "5xx", "none")} == {
        "2xx": 2, "3xx": 0, "4xx": 1, "5xx": 1, "none": 2}
    assert value(after, "kula_delivery_failing_hosts") == 1
    age = value(after, "kula_delivery_oldest_pending_age_seconds")
    assert 3600 <= age < 3600 + 120
    assert value(after, "kula_jobs", state="done") == 2
    assert value(after, "kula_jobs", state="failed") == 1
    assert value(after, "kula_jobs", state="new") - value(before, "kula_jobs", state="new") == 1
    assert {outcome: value(after, "kula_inbox_activities", outcome=outcome) for outcome in
            ("pending", "applied", "ignored", "rejected", "unsupported", "other")} == {
        "pending": 1, "applied": 2, "ignored": 1, "rejected": 1, "unsupported": 1, "other": 1}
    assert value(after, "kula_remote_actors") - value(before, "kula_remote_actors") == 2
    active = value(after, "kula_members", status="active")
    assert active - value(before, "kula_members", status="active") == 1
    assert value(after, "kula_members", status="suspended") == 1
    assert value(after, "kula_listings", origin="local", status="available") == 1


@pytest.mark.spec("Kula operations: /metrics figures are cached briefly")
async def test_figures_are_reused_within_their_time_to_live(
    client: TestClient, make_member: MemberFactory
) -> None:
    _, first = await scrape(client)
    client.app[metrics_key].figures_ttl = 3600
    await make_member("alice")
    response = await client.get("/metrics")
    _, cached = parse_exposition(await response.text())
    assert value(cached, "kula_members", status="active") == value(
        first, "kula_members", status="active")
    _, fresh = await scrape(client)
    assert value(fresh, "kula_members", status="active") == value(
        first, "kula_members", status="active") + 1


@pytest.mark.spec("Kula operations: /metrics access")
async def test_proxied_and_remote_callers_need_an_admin_token(
    client: TestClient, make_member: MemberFactory
) -> None:
    writer = await make_member("writer", scope="write")
    admin = await make_member("operator", scope="admin")
    proxied = {"X-Forwarded-For": "203.0.113.9"}
    await assert_problem(await client.get("/metrics", headers=proxied), 401, "unauthorized")
    await assert_problem(
        await client.get("/metrics", headers={**proxied, **writer.auth}), 403, "forbidden")
    await assert_problem(
        await client.get("/metrics", headers={"Forwarded": "for=203.0.113.9"}), 401,
        "unauthorized")
    types, _ = await scrape(client, **proxied, **admin.auth)
    assert types["kula_http_requests_total"] == "counter"


@pytest.mark.spec("Kula operations: /metrics access")
def test_only_a_direct_loopback_peer_counts_as_local() -> None:
    request = make_mocked_request("GET", "/metrics")
    assert is_direct_loopback(request.clone(remote="127.0.0.1"))
    assert is_direct_loopback(request.clone(remote="::1"))
    assert not is_direct_loopback(request.clone(remote="203.0.113.9"))
    assert not is_direct_loopback(request.clone(remote="10.0.0.2"))
    assert not is_direct_loopback(request.clone(remote=None))  # e.g. a Unix socket
    proxied = make_mocked_request("GET", "/metrics", headers={"X-Real-IP": "203.0.113.9"})
    assert not is_direct_loopback(proxied.clone(remote="127.0.0.1"))
