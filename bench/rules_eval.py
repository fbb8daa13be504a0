"""Figure: the time of one threshold-rules cycle (rule_eval.run_cycle), 10,000 rules over
100,000 series with 5-minute windows. Target: under 1 s per 60 s cycle.

A fresh SQLite data directory (or DATABASE_URL's database, migrated): one organization, 100
metrics of 1,000 series each (labels host and group, ten hosts a group), a sample every 15 s
for the last 5 minutes (2,000,000 samples); 10,000 rules, each on one metric and one group
(`group = N`, so ten series each, every series watched once), averages over 300 s, critical
above 90; `--firing` series are above it. The first cycle makes the 100,000 states; the
following ones are the steady cycles every minute, timed with the samples moved on a minute.

    .venv/bin/python bench/rules_eval.py [--rules 10000] [--series 100000] [--cycles 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
METRICS = 100


def setup() -> None:
    if not os.environ.get("SUSTAIN_DATA_DIR") and not os.environ.get("DATABASE_URL"):
        os.environ["SUSTAIN_DATA_DIR"] = tempfile.mkdtemp(prefix="sustain-rulebench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sustain.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--firing", type=int, default=10)
    args = parser.parse_args()
    setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from sustain.accounts.models import Organization, Role, User
    from sustain.monitoring import rule_eval, rules
    from sustain.monitoring.models import RuleState, Sample, Series, ThresholdRule
    from sustain.monitoring.series import series_key

    provider = Organization.objects.create(name="Provider", slug="provider", is_provider=True)
    acme = Organization.objects.create(name="Acme", slug="acme")
    mia = User.objects.create_user(
        "mia@provider.test", None, name="Mia", organization=provider, role=Role.MANAGER
    )
    now = timezone.now().replace(microsecond=0)
    per_metric = args.series // METRICS
    started = time.perf_counter()
    made = []
    for i in range(args.series):
        labels = {"host": f"h{i % per_metric}", "group": str((i % per_metric) // 10)}
        name = f"m{i // per_metric}"
        made.append(
            Series(
                organization=acme,
                name=name,
                labels=labels,
                key=series_key(None, name, labels),
                kind="gauge",
                last_sample_at=now,
            )
        )
    Series.objects.bulk_create(made, batch_size=2000)
    ids = list(Series.objects.order_by("id").values_list("id", flat=True))
    firing = set(ids[:: max(1, len(ids) // max(1, args.firing))][: args.firing])

    def load(end, points: int) -> None:
        """`points` samples of each series, 15 s apart, the last 15 s before `end`."""
        end_ms = int(end.timestamp() * 1000)
        rows = [
            (sid, end_ms - k * 15_000, 95.0 if sid in firing else 50.0)
            for sid in ids
            for k in range(1, points + 1)
        ]
        table = Sample._meta.db_table
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} (series_id, time, value) VALUES (%s, %s, %s)",
                rows,
            )

    load(now, 20)
    with transaction.atomic():
        for r in range(args.rules):
            rules.create_rule(
                mia,
                acme,
                name=f"rule {r}",
                metric=f"m{r % METRICS}",
                matchers=[{"label": "group", "op": "=", "value": str(r // METRICS)}],
                window_seconds=300,
                critical=90,
                now=now,
            )
    print(
        f"world: {args.series} series, {len(ids) * 20} samples, {args.rules} rules "
        f"in {time.perf_counter() - started:.1f} s"
    )

    t = time.perf_counter()
    evaluated = rule_eval.run_cycle(now=now)
    first = time.perf_counter() - t
    print(
        f"first cycle (makes {RuleState.objects.count()} states): {evaluated} rules "
        f"in {first:.2f} s"
    )
    times = []
    for c in range(1, args.cycles + 1):
        at = now + timedelta(seconds=60 * c)
        load(at, 4)  # the minute's new samples
        t = time.perf_counter()
        evaluated = rule_eval.run_cycle(now=at)
        times.append(time.perf_counter() - t)
        print(f"cycle {c}: {evaluated} rules in {times[-1]:.2f} s")
    assert ThresholdRule.objects.exclude(lease="").count() == 0
    print(
        f"steady cycle: median {statistics.median(times):.2f} s (target < 1 s), "
        f"database {connection.vendor}"
    )


if __name__ == "__main__":
    main()
