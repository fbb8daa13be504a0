"""Sustain's own metrics (`/metrics`): the counters and histogram the code increments, and the
gauges read from the database at scrape time.

Counters and the request histogram live in `prometheus_client` values. Under `sustain run`,
gunicorn's worker processes and the background worker each write theirs to files in
PROMETHEUS_MULTIPROC_DIR (set by `sustain run`, wiped at its start; gunicorn's `child_exit`
hook marks a finished process dead), and a scrape sums them across processes. Without that
variable (tests, `manage.py runserver`) they are this process's own.

The gauges (open tickets by priority, breached SLA clocks, the outbox's backlog and lag) are
not kept in memory at all: `DatabaseCollector` asks the database at each scrape, with a few
cheap queries on indexed columns, so every process answers the same. Labels stay bounded: a
priority, a source kind, a method, a status class, a URL route name; never an organization,
a raw path or an id.

Other apps import the counters from here and increment them (`HEARTBEAT_PINGS.inc()`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from sustain.core.models import OutboxMessage, Priority
from sustain.desk.models import OPEN_STATUSES, Ticket
from sustain.sla.models import Clock

# The process's own metrics: registered here, never in the library's global registry, so that
# a scrape without multiprocess mode shows exactly these.
REGISTRY = CollectorRegistry(auto_describe=True)

ALERTS_RECEIVED = Counter(
    "sustain_alerts_received",
    "Alert signals received, by the kind of source that sent them.",
    ["source_kind"],
    registry=REGISTRY,
)
HEARTBEAT_PINGS = Counter(
    "sustain_heartbeat_pings",
    "Heartbeat pings received.",
    registry=REGISTRY,
)
REQUEST_LATENCY = Histogram(
    "sustain_request_duration_seconds",
    "Time to answer an HTTP request, by method, status class and URL route name.",
    ["method", "status", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(method: str, status: int, route: str, seconds: float) -> None:
    """One answered request (the middleware's door): labels folded to bounded sets."""
    REQUEST_LATENCY.labels(
        method=method if method in METHODS else "other",
        status=f"{status // 100}xx" if 100 <= status < 600 else "other",
        route=route or "unresolved",
    ).observe(seconds)


class DatabaseCollector(Collector):
    """The gauges a scrape reads from the database."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        by_priority = dict(
            Ticket.objects.filter(status__in=OPEN_STATUSES)
            .values_list("priority")
            .annotate(n=Count("id"))
            .order_by()
        )
        tickets = GaugeMetricFamily(
            "sustain_open_tickets",
            "Open tickets (new, open, pending), by priority.",
            labels=["priority"],
        )
        for priority in Priority:
            tickets.add_metric([priority.name], by_priority.get(priority.value, 0))
        yield tickets
        yield GaugeMetricFamily(
            "sustain_sla_breached_clocks",
            "SLA clocks breached and not yet met (their ticket's target was missed).",
            value=Clock.objects.filter(state=Clock.State.BREACHED).count(),
        )
        pending = OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING)
        summary = pending.aggregate(n=Count("id"), oldest=Min("created_at"))
        yield GaugeMetricFamily(
            "sustain_outbox_pending", "Outbox messages not yet delivered.", value=summary["n"]
        )
        yield GaugeMetricFamily(
            "sustain_outbox_oldest_pending_age_seconds",
            "Age of the oldest undelivered outbox message (0 when none).",
            value=_age(now, summary["oldest"]),
        )
        oldest_due = pending.filter(next_attempt_at__lte=now).aggregate(due=Min("next_attempt_at"))[
            "due"
        ]
        yield GaugeMetricFamily(
            "sustain_worker_lag_seconds",
            "How long the oldest due outbox message has waited for the worker (0 when none).",
            value=_age(now, oldest_due),
        )


def _age(now: object, then: object) -> float:
    if then is None:
        return 0.0
    return max(0.0, (now - then).total_seconds())  # type: ignore[operator]


class _Own(Collector):
    """This process's own metrics, for a scrape outside multiprocess mode."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def scrape_registry() -> CollectorRegistry:
    """What one scrape shows: the counters of every process (or this one's), and the gauges."""
    registry = CollectorRegistry(auto_describe=True)
    directory = multiprocess_dir()
    if directory:
        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_Own())
    registry.register(DatabaseCollector())
    return registry
