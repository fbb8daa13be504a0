"""The demo's metrics: Acme's ledger-api on acme-production reports, through a machine token
and the one ingest door (`series.ingest`), three days of one point a minute (the latency histograms
every five minutes before the last six hours, but around the slowdown): a request-latency
histogram per endpoint (checkout, invoices, a slow export, health), request and error counters
per endpoint and a connection-pool gauge. The rollups module rolls them into 1-minute and
1-hour rows at once, so every range of the charts has data.

Twenty hours ago the database slowed down for forty minutes: checkout's p95 crossed the
"Checkout latency" rule's thresholds, its alert fired (an incident opened) and resolved when
the latency came back, evaluated every two minutes by the real rule cycle (`rule_eval`). Five
hours ago Ledger 2.4.2 reached production (demo/releases.py): the export's latency halves
there. In the last 35 minutes checkout's errors climb (the HighErrorRate alert of
monitoring.py). The organization's dashboard has three pins, the item's one.
"""

from __future__ import annotations

import functools
import itertools
import math
from datetime import datetime, timedelta
from typing import Any

from sustain.accounts.models import Organization
from sustain.demo.clock import at
from sustain.demo.history import Timeline
from sustain.monitoring import actions, dashboards, rollups, rule_eval, rules
from sustain.monitoring.models import RollupCursor
from sustain.monitoring.series import Histogram, Incoming, ingest

DAYS = 3
SERVICE = "ledger-api"
LATENCY = "http_server_duration_seconds"
REQUESTS = "http_server_requests_total"
ERRORS = "http_server_errors_total"
POOL = "db_pool_connections_in_use"
BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]
# endpoint: (requests a minute at the daily peak, median seconds, spread)
ENDPOINTS = {
    "/api/checkout": (90, 0.09, 0.55),
    "/api/invoices": (60, 0.05, 0.5),
    "/api/export": (6, 1.1, 0.45),
    "/health": (12, 0.004, 0.3),
}
SLOW_AGO = timedelta(hours=20)  # the database's slow forty minutes
SLOW_FOR = timedelta(minutes=40)
DEPLOYED_AGO = timedelta(hours=5)  # Ledger 2.4.2 on production (demo/releases.py)
ERRORS_AGO = timedelta(minutes=35)  # the 5xx spike (monitoring.py's HighErrorRate)


def _cdf(x: float, median: float, spread: float) -> float:
    return 0.5 * (1 + math.erf((math.log(x) - math.log(median)) / (spread * math.sqrt(2))))


@functools.cache
def _shape(median: float, spread: float) -> tuple[float, ...]:
    return tuple(_cdf(b, median, spread) for b in BOUNDS)


def _buckets(n: int, median: float, spread: float) -> list[int]:
    """n observations of a log-normal latency in BOUNDS' buckets (the last one open)."""
    cumulative = [round(n * f) for f in _shape(median, spread)] + [n]
    return [cumulative[0]] + [b - a for a, b in itertools.pairwise(cumulative)]


class Traffic:
    """Per minute: each endpoint's requests, latency median and errors (deterministic)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def _load(self, moment: datetime) -> float:
        hour = moment.hour + moment.minute / 60
        return (
            0.35 + 0.65 * max(0.0, math.sin(math.pi * (hour - 6) / 16)) if 6 <= hour <= 22 else 0.35
        )

    def minute(self, moment: datetime, endpoint: str, wobble: int) -> tuple[int, float, float, int]:
        peak, median, spread = ENDPOINTS[endpoint]
        n = max(1, round(peak * self._load(moment) * (0.9 + 0.2 * ((wobble * 37) % 11) / 10)))
        slow = self.now - SLOW_AGO <= moment < self.now - SLOW_AGO + SLOW_FOR
        error_share = 0.002
        if slow and endpoint != "/health":
            median *= 12 if endpoint == "/api/checkout" else 3
            error_share = 0.03
        if endpoint == "/api/export" and moment >= self.now - DEPLOYED_AGO:
            median /= 2  # 2.4.2: "CSV export is twice as fast"
        if endpoint == "/api/checkout" and moment >= self.now - ERRORS_AGO:
            error_share = 0.078
        errors = round(n * error_share + ((wobble * 13) % 7 == 0))
        return n, median, spread, errors


def _fine(now: datetime, moment: datetime) -> bool:
    """Latency is sent every minute in the last six hours and around the slowdown, every five
    minutes before (as a delta of those minutes): a quarter of the rows to write and roll."""
    slow = now - SLOW_AGO
    return moment >= now - timedelta(hours=6) or abs(moment - slow) < timedelta(hours=1)


def _incoming(now: datetime, item: Any) -> list[Incoming]:
    traffic = Traffic(now)
    start = (now - timedelta(days=DAYS)).replace(second=0, microsecond=0)
    minutes = int((now - start).total_seconds() // 60)
    series: list[Incoming] = []
    pool = Incoming(
        "pool",
        POOL,
        {"service": SERVICE, "pool": "primary"},
        "gauge",
        "connections",
        config_item=item,
    )
    for endpoint in ENDPOINTS:
        labels = {"service": SERVICE, "endpoint": endpoint}
        latency = Incoming(endpoint, LATENCY, labels, "histogram", "s", "delta", config_item=item)
        requests = Incoming(endpoint, REQUESTS, labels, "counter", "requests", config_item=item)
        errors = Incoming(endpoint, ERRORS, labels, "counter", "errors", config_item=item)
        total_requests = total_errors = 0
        held = [0] * (len(BOUNDS) + 1)  # buckets of the minutes not sent yet
        for i in range(minutes):
            moment = start + timedelta(minutes=i)
            ms = int(moment.timestamp() * 1000)
            n, median, spread, failed = traffic.minute(moment, endpoint, i)
            held = [a + b for a, b in zip(held, _buckets(n, median, spread), strict=True)]
            if _fine(now, moment) or i % 5 == 4:
                observed = sum(held)
                latency.histograms.append(Histogram(ms, observed, observed * median, BOUNDS, held))
                held = [0] * (len(BOUNDS) + 1)
            total_requests += n
            total_errors += failed
            requests.points.append((ms, float(total_requests)))
            errors.points.append((ms, float(total_errors)))
        series += [latency, requests, errors]
    slow_from = now - SLOW_AGO
    for i in range(minutes):
        moment = start + timedelta(minutes=i)
        busy = 10 + 22 * traffic._load(moment) + (i * 7) % 5
        if slow_from <= moment < slow_from + SLOW_FOR:
            busy = 48 + i % 3
        pool.points.append((int(moment.timestamp() * 1000), float(busy)))
    return [*series, pool]


def application_metrics(timeline: Timeline, people: dict[str, Any], items: dict[str, Any]) -> None:
    """Plan the metrics, the rule's incident and the pins on the demo's timeline."""
    now = timeline.now
    acme = Organization.objects.get(slug="acme")
    production = items["acme-production"]
    made: dict[str, Any] = {}

    def set_up() -> None:
        token, _ = actions.create_machine_token(
            people["mia"], acme, name="OpenTelemetry collector (ledger-api)", config_item=production
        )
        ingest(token, _incoming(now, production))
        end = int(now.timestamp() * 1000) // rollups.MINUTE * rollups.MINUTE
        lo = end - DAYS * rollups.DAY - rollups.HOUR
        rollups.roll_minutes(lo, end)
        rollups.roll_hours(lo, end)
        # The rollup job carries on from here instead of rolling these days again.
        RollupCursor.objects.update_or_create(
            name=rollups.CURSOR,
            defaults={"minutes_to": end, "hours_to": end // rollups.HOUR * rollups.HOUR},
        )
        made["rule"] = rules.create_rule(
            people["mia"],
            acme,
            name="Checkout latency",
            metric=LATENCY,
            matchers=[{"label": "endpoint", "op": "=", "value": "/api/checkout"}],
            aggregation="p95",
            window_seconds=300,
            warning=0.5,
            critical=1.0,
            warning_recovery=0.4,
            critical_recovery=0.8,
            for_seconds=120,
            interval_seconds=120,
        )

    def slow_database() -> None:
        """The rule cycle every two minutes (its interval), from before the slowdown to after."""
        moment = now - SLOW_AGO - timedelta(minutes=5)
        while moment < now - SLOW_AGO + SLOW_FOR + timedelta(minutes=15):
            with at(moment):
                rule_eval.run_cycle(moment)
            moment += timedelta(minutes=2)

    def pins() -> None:
        from sustain.monitoring.models import Series

        mia = people["mia"]
        checkout = Series.objects.get(
            organization=acme, name=LATENCY, labels__endpoint="/api/checkout"
        )
        dashboards.pin_series(mia, checkout, title="Checkout latency")
        dashboards.pin_selector(
            mia,
            acme,
            metric=REQUESTS,
            aggregation="rate",
            title="Requests per second, all endpoints",
        )
        export = Series.objects.get(organization=acme, name=LATENCY, labels__endpoint="/api/export")
        dashboards.pin_series(
            mia, export, aggregation="p95", title="Export p95 (2.4.2 made it faster)"
        )
        pool = Series.objects.get(organization=acme, name=POOL)
        dashboards.pin_series(mia, pool, on_item=True, title="Database connections in use")

    timeline.add(now - timedelta(days=DAYS, minutes=-1), set_up)
    timeline.add(now - SLOW_AGO - timedelta(minutes=5), slow_database)
    timeline.add(now - timedelta(hours=1), pins)
