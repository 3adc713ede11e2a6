"""Prometheus metrics: request figures kept in this process, and the text
exposition format (version 0.0.4) they are served in.

Written by hand rather than with ``prometheus_client``: the format is a few
lines of text per family, and the node then needs no process-wide registry.
Request figures are per process (each ``kula serve`` reports its own); the
queue and federation figures come from the database, so every process
reports the same ones (see :mod:`node.storage.metrics_queries`).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from node.storage.metrics_queries import NodeFigures

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Request latency buckets in seconds: from a cached fetch to a slow federation fetch.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

Labels = tuple[tuple[str, str], ...]


def escape_label_value(value: str) -> str:
    """Escape a label value: backslash, double quote and line feed."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    """A sample value as Prometheus parses it: integers plainly, ``+Inf``, ``NaN``."""
    if isinstance(value, int) or (math.isfinite(value) and value == int(value)):
        return str(int(value))
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _label_text(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{name}="{escape_label_value(value)}"' for name, value in labels)
    return "{" + inner + "}"


@dataclass
class MetricFamily:
    """One metric name with its help text, type and samples."""

    name: str
    kind: str  # counter, gauge or histogram
    help: str
    #: ``(suffix, labels, value)``; suffix is ``_bucket``, ``_sum``, ``_count`` or "".
    samples: list[tuple[str, Labels, float]] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> MetricFamily:
        self.samples.append(("", tuple(labels.items()), value))
        return self


def render(families: Iterable[MetricFamily]) -> str:
    """The text exposition format: HELP, TYPE, then one line per sample."""
    lines = []
    for family in families:
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for suffix, labels, value in family.samples:
            lines.append(f"{family.name}{suffix}{_label_text(labels)} {format_value(value)}")
    return "\n".join(lines) + "\n"


@dataclass
class _Histogram:
    counts: list[int]
    total: float = 0.0
    observations: int = 0


class RequestMetrics:
    """Request counts and a latency histogram, kept for the life of the process."""

    def __init__(self, buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.buckets = tuple(sorted(buckets))
        self.requests: dict[tuple[str, str, str], int] = {}
        self.latency: dict[tuple[str, str], _Histogram] = {}
        self.in_flight = 0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request. ``route`` is the route template, never the raw path,
        so the number of series stays bounded whatever clients ask for."""
        key = (method, route, str(status))
        self.requests[key] = self.requests.get(key, 0) + 1
        histogram = self.latency.get((method, route))
        if histogram is None:
            histogram = self.latency[(method, route)] = _Histogram([0] * len(self.buckets))
        # Buckets are "less than or equal": the first bound not below the value.
        index = bisect_left(self.buckets, seconds)
        if index < len(self.buckets):
            histogram.counts[index] += 1
        histogram.total += seconds
        histogram.observations += 1

    def families(self) -> list[MetricFamily]:
        requests = MetricFamily(
            "kula_http_requests_total", "counter",
            "HTTP requests answered, by method, route template and status.",
        )
        for (method, route, status), count in sorted(self.requests.items()):
            requests.add(count, method=method, route=route, status=status)
        latency = MetricFamily(
            "kula_http_request_duration_seconds", "histogram",
            "Time from receiving a request to its response, by method and route template.",
        )
        for (method, route), histogram in sorted(self.latency.items()):
            base = (("method", method), ("route", route))
            cumulative = 0
            for bound, count in zip(self.buckets, histogram.counts, strict=True):
                cumulative += count
                latency.samples.append(
                    ("_bucket", (*base, ("le", format_value(bound))), cumulative)
                )
            latency.samples.append(("_bucket", (*base, ("le", "+Inf")), histogram.observations))
            latency.samples.append(("_sum", base, histogram.total))
            latency.samples.append(("_count", base, histogram.observations))
        in_flight = MetricFamily(
            "kula_http_requests_in_flight", "gauge", "Requests being handled right now."
        ).add(self.in_flight)
        return [requests, latency, in_flight]


def _age(moment: datetime | None, now: datetime) -> float:
    return 0.0 if moment is None else max((now - moment).total_seconds(), 0.0)


def _by(name: str, help_text: str, label: str, values: dict[str, int]) -> MetricFamily:
    family = MetricFamily(name, "gauge", help_text)
    for key, value in sorted(values.items()):
        family.add(value, **{label: key})
    return family


def figure_families(figures: NodeFigures, now: datetime) -> list[MetricFamily]:
    """The database figures as gauges (rows can be dropped, so none is a counter)."""
    listings = MetricFamily(
        "kula_listings", "gauge", "Listings not deleted, by origin (local, remote) and status."
    )
    for (origin, status), count in sorted(figures.listings.items()):
        listings.add(count, origin=origin, status=status)
    return [
        _by("kula_deliveries", "Outbound deliveries (one per activity and inbox), by state.",
            "state", figures.deliveries),
        _by("kula_delivery_attempts", "Delivery attempts made, summed over deliveries by state.",
            "state", figures.delivery_attempts),
        _by("kula_deliveries_last_response",
            "Deliveries by the class of the last answer (none: not tried, or a network error).",
            "class", figures.delivery_last_response),
        MetricFamily("kula_delivery_failing_hosts", "gauge",
                     "Hosts with deliveries retrying or failed.").add(figures.failing_hosts),
        MetricFamily("kula_delivery_oldest_pending_age_seconds", "gauge",
                     "Age of the oldest delivery not yet delivered or failed (0 when none).")
        .add(_age(figures.oldest_pending_delivery, now)),
        _by("kula_jobs", "Background jobs (inbound processing and others), by state.",
            "state", figures.jobs),
        MetricFamily("kula_job_oldest_pending_age_seconds", "gauge",
                     "Age of the oldest job not yet done or failed (0 when none).")
        .add(_age(figures.oldest_pending_job, now)),
        _by("kula_inbox_activities", "Accepted inbound activities, by processing outcome.",
            "outcome", figures.inbox_activities),
        MetricFamily("kula_remote_actors", "gauge",
                     "Actors of other servers held in the cache.").add(figures.remote_actors),
        MetricFamily("kula_peers", "gauge",
                     "Partner communities this community follows.").add(figures.peers),
        _by("kula_members", "Members of this community, by status.", "status", figures.members),
        listings,
    ]


@dataclass
class NodeMetrics:
    """What a node application keeps for ``/metrics``."""

    requests: RequestMetrics = field(default_factory=RequestMetrics)
    #: Seconds the database figures are reused, so several scrapers cost one read.
    figures_ttl: float = 5.0
    figures: NodeFigures | None = None
    figures_read_at: float = -math.inf
