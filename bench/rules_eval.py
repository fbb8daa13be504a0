"""Figure: the time of one threshold-rules cycle (rule_eval.run_cycle), 10,000 rules over
100,000 series with 5-minute windows. Target: under 1 s per 60 s cycle.

A fresh SQLite data directory (or DATABASE_URL's database, migrated): one organization, 100
metrics of 1,000 series each (labels host and group, ten hosts a group), a sample every 15 s
for the last 5 minutes (2,000,000 samples); 10,000 rules, each on one metric and one group
(`group = N`, so ten series each, every series watched once), averages over 300 s, critical
above 90; `--firing` series are above it. The first cycle makes the 100,000 states; the
following ones are the steady cycles every minute, timed with the samples moved on a minute
and the minute that completed rolled up first (`rollups.roll_minutes`, the sweep's own step,
timed apart: the rollup job's work, not the rules'), so a rule reads 4 or 5 minute rows and
the raw samples of the window's first partial minute and of the unrolled tail. The cycles
run at the second the script started at (not on the minute): windows are not aligned.
Wall and CPU time (this process: on SQLite that includes the database) are printed;
`--profile FILE` writes a cProfile of the last steady cycle.

    .venv/bin/python bench/rules_eval.py [--rules 10000] [--series 100000] [--cycles 3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test_perfrules .venv/bin/python bench/rules_eval.py
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
    parser.add_argument("--profile", default="")
    parser.add_argument(
        "--reuse", action="store_true", help="PostgreSQL: time cycles on the world left there"
    )
    args = parser.parse_args()
    setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Min
    from django.utils import timezone

    from sustain.accounts.models import Organization, Role, User
    from sustain.monitoring import rollups, rule_eval, rules
    from sustain.monitoring.models import (
        RollupCursor,
        RuleState,
        Sample,
        Series,
        ThresholdRule,
    )
    from sustain.monitoring.series import series_key

    reuse = args.reuse and ThresholdRule.objects.exists()
    if os.environ.get("DATABASE_URL") and not reuse:
        call_command("flush", interactive=False, verbosity=0)  # a world left by an earlier run
    if reuse:  # the cycles go on from where the last run's left the rules
        now = ThresholdRule.objects.aggregate(at=Min("next_eval_at"))["at"]
        ThresholdRule.objects.update(lease="", leased_until=None)  # an interrupted run's
    else:
        provider = Organization.objects.create(name="Provider", slug="provider", is_provider=True)
        acme = Organization.objects.create(name="Acme", slug="acme")
        mia = User.objects.create_user(
            "mia@provider.test", None, name="Mia", organization=provider, role=Role.MANAGER
        )
        now = timezone.now().replace(microsecond=0)
    per_metric = args.series // METRICS
    started = time.perf_counter()
    made = []
    for i in range(0 if reuse else args.series):
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
            # As ingest keeps it: the rollup job rolls the series with a sample since.
            Series.objects.update(last_sample_at=end - timedelta(seconds=15))

    def roll(upto) -> float:
        """The minutes completed by `upto` rolled and the cursor moved, as the sweep does."""
        hi = int(upto.timestamp() * 1000) // rollups.MINUTE * rollups.MINUTE
        row, _ = RollupCursor.objects.get_or_create(name=rollups.CURSOR)
        lo = row.minutes_to or hi - 10 * rollups.MINUTE
        t = time.perf_counter()
        rollups.roll_minutes(lo, hi)
        RollupCursor.objects.filter(name=rollups.CURSOR).update(minutes_to=hi)
        return time.perf_counter() - t

    if not reuse:
        load(now, 20)
        print(f"rolled the loaded minutes in {roll(now):.2f} s")
    with transaction.atomic():
        for r in range(0 if reuse else args.rules):
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
    times, cpu = [], []
    for c in range(1, args.cycles + 1):
        at = now + timedelta(seconds=60 * c)
        load(at, 4)  # the minute's new samples
        rolled = roll(at)
        profiler = None
        if args.profile and c == args.cycles:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        t, p = time.perf_counter(), time.process_time()
        evaluated = rule_eval.run_cycle(now=at)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - p)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        print(
            f"cycle {c}: {evaluated} rules in {times[-1]:.2f} s (CPU {cpu[-1]:.2f} s); "
            f"the minute rolled up before it in {rolled:.2f} s"
        )
    assert ThresholdRule.objects.exclude(lease="").count() == 0
    firing = RuleState.objects.exclude(level="ok").count()
    print(
        f"steady cycle: median {statistics.median(times):.2f} s, CPU "
        f"{statistics.median(cpu):.2f} s (target < 1 s), {firing} states firing, "
        f"database {connection.vendor}, load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
