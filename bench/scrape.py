"""Figure: one scrape of a target exposing 10,000 series, in seconds per scrape and samples/s.

A fresh SQLite data directory (or DATABASE_URL's database, migrated); the target is an
application instrumented with prometheus_client, in a process of its own, served by
`prometheus_client.start_http_server` on 127.0.0.1 (allowed through
SUSTAIN_OUTBOUND_ALLOW_NETWORKS for the run): `--gauges` gauge series (one label of
distinct values), plus `--histograms` histogram series of 10 buckets each (12 samples each),
all changing between scrapes. One scrape job; then `--scrapes` scrapes, each one scheduler step
(`scrape_runs.run_due`, what the worker's loop does for a due job: fetch, parse, ingest,
record) a minute apart. The first scrape also makes every series; the later ones only add
points. Printed per scrape: wall seconds, this process's CPU seconds, samples/s; then the
median of the later ones and the parts of one scrape (fetch, parse, record) measured apart.

    .venv/bin/python bench/scrape.py [--gauges 9000] [--histograms 1000] [--scrapes 6]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta

TARGET = """
import random, sys, threading, time
from prometheus_client import CollectorRegistry, Gauge, Histogram, start_http_server
gauges, histograms = int(sys.argv[1]), int(sys.argv[2])
registry = CollectorRegistry()
g = Gauge("bench_queue_depth", "depth", ["shard"], registry=registry)
h = Histogram("bench_latency_seconds", "latency", ["route"], registry=registry,
              buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5))
def churn():
    rng = random.Random(7)
    while True:
        for i in range(gauges):
            g.labels(str(i)).set(rng.random() * 100)
        for i in range(histograms):
            h.labels(f"/r{i}").observe(rng.random() * 3)
        time.sleep(5)
threading.Thread(target=churn, daemon=True).start()
time.sleep(0.5)
server, _ = start_http_server(0, addr="127.0.0.1", registry=registry)
print(server.server_address[1], flush=True)
sys.stdin.read()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gauges", type=int, default=9000)
    parser.add_argument("--histograms", type=int, default=1000)
    parser.add_argument("--scrapes", type=int, default=6)
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL"):
        os.environ["SUSTAIN_DATA_DIR"] = tempfile.mkdtemp(prefix="sustain-bench-scrape-")
    os.environ["SUSTAIN_OUTBOUND_ALLOW_NETWORKS"] = "127.0.0.0/8"
    os.environ.setdefault("SUSTAIN_MAX_SERIES_PER_ORG", "100000")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sustain.settings")
    os.environ.setdefault("SUSTAIN_SECRET_KEY", "bench-scrape-not-secret")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from sustain.accounts.models import Organization, Role, User
    from sustain.monitoring import actions, scrape_parse, scrape_runs
    from sustain.monitoring.models import Sample, ScrapeJob, Series

    call_command("migrate", verbosity=0)
    target = subprocess.Popen(
        [sys.executable, "-c", TARGET, str(args.gauges), str(args.histograms)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    port = (target.stdout.readline() if target.stdout else "").strip()
    provider, _ = Organization.objects.get_or_create(
        slug="bench-provider", defaults={"name": "Bench provider", "is_provider": True}
    )
    customer, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    manager = User.objects.filter(email="bench-manager@example.test").first()
    if manager is None:
        manager = User.objects.create_user(
            "bench-manager@example.test", None, organization=provider, role=Role.MANAGER
        )
    ScrapeJob.objects.filter(organization=customer).delete()
    Series.objects.filter(organization=customer).delete()
    start = timezone.now().replace(microsecond=0)
    job = actions.create_scrape_job(
        manager,
        customer,
        name="bench",
        url=f"http://127.0.0.1:{port}/metrics",
        interval_seconds=60,
        timeout_seconds=30,
        now=start,
    )
    print(
        f"{connection.vendor}; target: {args.gauges} gauges + {args.histograms} histograms "
        f"(10 buckets) = {args.gauges + args.histograms} series; load {os.getloadavg()[0]:.1f}"
    )
    later: list[tuple[float, float, float]] = []
    try:
        for n in range(args.scrapes):
            wall, cpu = time.perf_counter(), time.process_time()
            ran = scrape_runs.run_due(now=start + timedelta(minutes=n))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            job.refresh_from_db()
            assert ran == 1 and job.status == "ok", (ran, job.status, job.last_error)
            rate = job.last_samples / wall
            what = "first (makes the series)" if n == 0 else "later"
            print(
                f"scrape {n + 1}: {wall:.2f} s wall, {cpu:.2f} s CPU, {job.last_samples} samples, "
                f"{job.last_series} series, {rate:,.0f} samples/s  [{what}]"
            )
            if n:
                later.append((wall, cpu, rate))
        # the parts of one more scrape, apart
        clock = time.perf_counter()
        text, _type = scrape_runs.fetch(job)
        fetched = time.perf_counter() - clock
        clock, cpu = time.perf_counter(), time.process_time()
        parsed = scrape_parse.convert(
            text, target=scrape_runs.target(job), now_ms=int(time.time() * 1000)
        )
        parse, parse_cpu = time.perf_counter() - clock, time.process_time() - cpu
    finally:
        target.terminate()
    points = Sample.objects.filter(series__organization=customer).count()
    print(
        f"stored: {Series.objects.filter(organization=customer).count()} series, {points} samples"
    )
    if later:
        wall = statistics.median(w for w, _, _ in later)
        cpu = statistics.median(c for _, c, _ in later)
        rate = statistics.median(r for _, _, r in later)
        print(
            f"median of the later scrapes: {wall:.2f} s wall, {cpu:.2f} s CPU per scrape, "
            f"{rate:,.0f} samples/s ({parsed.samples / cpu:,.0f} samples per CPU second)"
        )
    print(
        f"parts: fetch {fetched:.2f} s wall ({len(text) / 1e6:.1f} MB), parse {parse:.2f} s "
        f"wall / {parse_cpu:.2f} s CPU ({parsed.samples} samples → {len(parsed.series)} series)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
