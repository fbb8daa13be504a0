"""Figure: a 30-day chart of one metric series, read from its rollups, p50/p95 latency.

    .venv/bin/python bench/metrics_chart.py [--days 30] [--every 10] [--requests 200]

A fresh data directory under /tmp; `sustain migrate`; an organization, an agent with an API
token and one gauge with one sample every `--every` seconds for `--days` days up to now
(259,200 samples by default), inserted with executemany. The rollup job (`rollups.sweep`,
as the worker runs it every minute, SUSTAIN_METRICS_RAW_DAYS past the data's age) runs until
it has caught up, timed. Then `sustain run` (gunicorn, no worker) and one keep-alive client
asks `GET /api/v1/metrics/series/{id}/rollup` for the 30 days (default step: 8,640 s, hourly
rollups) and for the last 7 days (2,016 s, 1-minute rollups), `--requests` times each.
Exits 1 when the 30-day chart's p95 is over 200 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime

from _common import SUSTAIN
from _load import free_port

TARGET_MS = 200.0
SETUP = """
import time
from django.db import connection
from sustain.accounts import actions as accounts
from sustain.accounts.models import Organization, Role, User
from sustain.monitoring import rollups
from sustain.monitoring.models import Series
provider = Organization.objects.create(name="Northwind", slug="northwind", is_provider=True)
agent = User.objects.create_user(
    "alice@bench.test", None, name="Alice", organization=provider, role=Role.AGENT
)
acme = Organization.objects.create(name="Acme", slug="acme")
from django.utils import timezone
series = Series.objects.create(
    organization=acme, name="queue_depth", key="bench", kind="gauge", last_sample_at=timezone.now()
)
now = rollups.now_ms() // 1000 * 1000
n = DAYS * 86400 // EVERY
rows = [(series.pk, now - (n - i) * EVERY * 1000, float(i % 97)) for i in range(n)]
with connection.cursor() as cursor:
    for i in range(0, n, 5000):
        cursor.executemany(
            "INSERT INTO monitoring_sample (series_id, time, value) VALUES (%s, %s, %s)",
            rows[i : i + 5000],
        )
started, runs = time.perf_counter(), 0
while True:
    runs += 1
    done = rollups.sweep()
    if done.get("minutes", 1) == 0:
        break
print(f"ROLLED {n} {runs} {time.perf_counter() - started:.2f}")
print(f"TOKEN {accounts.create_token(None, agent)[1]} {series.pk} {now}")
"""


def sustain(env: dict, *args: str) -> str:
    done = subprocess.run([SUSTAIN, *args], env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"sustain {args[0]}: {done.stderr[-2000:]}")
    return done.stdout


def _wait_for(port: int) -> None:
    for _ in range(240):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit("sustain run did not answer within 120 s")


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def timed(conn, path: str, token: str, requests: int) -> tuple[list[float], dict]:
    headers = {"Authorization": f"Bearer {token}"}
    times, body = [], {}
    for _ in range(requests):
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        times.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            sys.exit(f"{path}: {response.status} {raw[:300]!r}")
        body = json.loads(raw)
    return times, body


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[18]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--every", type=int, default=10, help="seconds between samples")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="sustain-bench-chart-", dir="/tmp")
    env = {
        **os.environ,
        "SUSTAIN_DATA_DIR": data_dir,
        "SUSTAIN_LOG_LEVEL": "ERROR",
        "SUSTAIN_METRICS_RAW_DAYS": str(args.days + 1),
    }
    sustain(env, "migrate", "--noinput")
    out = sustain(env, "shell", "-c", f"DAYS, EVERY = {args.days}, {args.every}\n{SETUP}")
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    samples, runs, seconds = lines["ROLLED"]
    token, series_id, now = lines["TOKEN"][0], lines["TOKEN"][1], int(lines["TOKEN"][2])
    print(f"samples: {samples}; rolled up by {runs} sweeps in {seconds} s")
    port = free_port()
    url = f"/api/v1/metrics/series/{series_id}/rollup"
    charts = {
        f"{args.days} days": f"{url}?start={iso(now - args.days * 86_400_000)}&end={iso(now)}",
        "7 days": f"{url}?start={iso(now - 7 * 86_400_000)}&end={iso(now)}",
    }
    figures = {}
    with open(os.path.join(data_dir, "server.log"), "ab") as log:
        server = subprocess.Popen(
            [SUSTAIN, "run", "--no-worker", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=log,
            process_group=0,
        )
        try:
            _wait_for(port)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for name, path in charts.items():
                timed(conn, path, token, 10)  # warm-up
                times, body = timed(conn, path, token, args.requests)
                figures[name] = p95(times)
                print(
                    f"{name}: {len(body['points'])} points from {body['resolution']} rollups "
                    f"(step {body['step']} s): p50 {statistics.median(times):.1f} ms, "
                    f"p95 {figures[name]:.1f} ms over {args.requests} requests"
                )
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
    ok = figures[f"{args.days} days"] <= TARGET_MS
    print(
        f"target: {args.days}-day chart p95 under {TARGET_MS:.0f} ms: {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
