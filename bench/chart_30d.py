"""Figure: a 30-day chart of one histogram series' p50/p95/p99, rendered on the server end to
end (the rollups read, the percentiles from merged buckets, the rule's thresholds and firing
periods, the deployments, the plotly figure and its JSON), and the whole series page.

    .venv/bin/python bench/chart_30d.py [--days 30] [--every 300] [--renders 50]
    DATABASE_URL=postgres://…/test_charts .venv/bin/python bench/chart_30d.py

SQLite: a fresh data directory under /tmp. PostgreSQL: the database DATABASE_URL names,
migrated, with this run's rows made under a fresh organization (left there: use a database
of its own).
A latency histogram (12 buckets, delta) gets one point every `--every` seconds for `--days`
days, written through the ingest door and rolled into 1-minute and 1-hour rows by the rollups
module; a threshold rule over it fired and resolved twice (through the alerts' door); two
deployments of a release to its environment. Then `--renders` times: charts.series_chart over
the 30 days (hourly rollups: the plan for a range past three days) and its HTML embedding;
and GET /monitoring/series/<id>?range=30d through Django's test client (middleware, template).
Prints p50/p95 wall time and CPU time; exits 1 when the chart's p95 is over 200 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid

TARGET_MS = 200.0


def setup_django() -> None:
    if not os.environ.get("DATABASE_URL"):
        os.environ["SUSTAIN_DATA_DIR"] = tempfile.mkdtemp(prefix="sustain-bench-chart30-")
    os.environ.setdefault("SUSTAIN_SECRET_KEY", "bench-not-secret")
    os.environ.setdefault("SUSTAIN_LOG_LEVEL", "ERROR")
    os.environ["DJANGO_SETTINGS_MODULE"] = "sustain.settings"
    os.environ["SUSTAIN_ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def make_world(days: int, every: int):
    from datetime import UTC, datetime, timedelta

    from django.utils import timezone

    from sustain.accounts.models import Organization, Role, User
    from sustain.cmdb.models import ConfigItem, Product, Version
    from sustain.monitoring import actions, alerts, rollups, rule_eval, rules
    from sustain.monitoring.models import Alert, Series
    from sustain.monitoring.series import Histogram, Incoming, ingest
    from sustain.releases.models import Deployment, Release

    tag = uuid.uuid4().hex[:8]
    provider = Organization.objects.filter(is_provider=True).first() or Organization.objects.create(
        name=f"Provider {tag}", slug=f"provider-{tag}", is_provider=True
    )
    manager = User.objects.create_user(
        f"mia-{tag}@bench.test", None, name="Mia", organization=provider, role=Role.MANAGER
    )
    org = Organization.objects.create(name=f"Acme {tag}", slug=f"acme-{tag}")
    env = ConfigItem.objects.create(organization=org, name=f"prod-{tag}", kind="environment")
    token, _ = actions.create_machine_token(manager, org, name="bench", config_item=env)
    bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]
    now = rollups.now_ms() // 60_000 * 60_000
    n = days * 86400 // every
    incoming = Incoming(
        "bench", "http_server_duration_seconds", {"endpoint": "/api/checkout"}, "histogram",
        "s", "delta", config_item=env,
    )  # fmt: skip
    for i in range(n):
        shift = i % 7
        counts = [0, 2, 5, 20 + shift, 40, 25, 6, 1 + (i % 50 == 0) * 30, 1, 0, 0, 0]
        t = now - (n - i) * every * 1000
        incoming.histograms.append(Histogram(t, sum(counts), 0.1 * sum(counts), bounds, counts))
    started = time.perf_counter()
    ingest(token, [incoming])
    lo = now - days * rollups.DAY - rollups.HOUR
    rollups.roll_minutes(lo, now)
    rollups.roll_hours(lo, now)
    print(f"{n} histogram points written and rolled up in {time.perf_counter() - started:.1f} s")
    series = Series.objects.get(organization=org)
    rule = rules.create_rule(
        manager, org, name="Checkout p95", metric=series.name, aggregation="p95",
        warning=0.5, critical=1.0,
    )  # fmt: skip
    for day in (12, 5):
        for state, hours in (("firing", 0), ("resolved", 2)):
            at = datetime.fromtimestamp(now / 1000, tz=UTC) - timedelta(days=day, hours=-hours)
            alerts.receive(
                rule.source,
                alerts.Signal(
                    fingerprint=rule_eval.fingerprint(series.pk),
                    state=Alert.State(state),
                    name="Checkout p95",
                    starts_at=at,
                    ends_at=None if state == "firing" else at,
                    severity="critical",
                    labels={},
                    annotations={},
                ),
                at,
            )
    product = Product.objects.create(name=f"Ledger {tag}", slug=f"ledger-{tag}")
    for i, day in enumerate((3, 20)):
        version = Version.objects.create(
            product=product, name=f"2.{i}.0", major=2, minor=i, patch=0
        )
        release = Release.objects.create(product=product, version=version, kind="minor")
        when = timezone.now() - timedelta(days=day)
        Deployment.objects.create(
            release=release, environment=env, organization=org, status="succeeded",
            started_at=when, finished_at=when, created_by=manager,
        )  # fmt: skip
    return manager, series, now, org


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def measure(label: str, fn, renders: int) -> float:
    for _ in range(3):
        fn()  # warm-up: imports, query plans, template cache
    walls, cpus = [], []
    for _ in range(renders):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - w) * 1000)
        cpus.append((time.process_time() - c) * 1000)
    p95 = percentile(walls, 95)
    print(
        f"{label}: p50 {statistics.median(walls):.1f} ms, p95 {p95:.1f} ms wall; "
        f"CPU p50 {statistics.median(cpus):.1f} ms, p95 {percentile(cpus, 95):.1f} ms "
        f"({renders} renders)"
    )
    return p95


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--every", type=int, default=300, help="seconds between points")
    parser.add_argument("--renders", type=int, default=50)
    args = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.test import Client

    from sustain.monitoring import chart_data, charts

    manager, series, now, _org = make_world(args.days, args.every)
    start, end = now - args.days * chart_data.DAY, now
    fig, lines = charts.series_chart(series, manager, start, end)
    shapes = len(fig["layout"]["shapes"])
    print(
        f"database: {connection.vendor}; {len(lines.times)} points from {lines.plan.resolution} "
        f"rollups, step {lines.plan.step // 1000} s; {shapes} shapes (thresholds, firing, "
        "deployments)"
    )

    def chart() -> None:
        figure, _lines = charts.series_chart(series, manager, start, end)
        charts.embed(figure, "bench")

    client = Client()
    client.force_login(manager)

    def page() -> None:
        response = client.get(f"/monitoring/series/{series.pk}?range=30d")
        assert response.status_code == 200, response.status_code

    p95 = measure("chart (query + figure + JSON)", chart, args.renders)
    measure("series page (GET, whole HTML)", page, args.renders)
    ok = p95 <= TARGET_MS
    print(f"target: 30-day chart p95 under {TARGET_MS:.0f} ms: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
