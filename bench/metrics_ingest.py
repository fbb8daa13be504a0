"""Figure: metric samples ingested per second, JSON batches and OTLP protobuf over HTTP, beside
raw `sqlite3.executemany` of the same rows into the same table in the same run.

    .venv/bin/python bench/metrics_ingest.py [--batches 40] [--series 50] [--per-batch 5000]

A fresh data directory under /tmp; `sustain migrate`, an organization with a machine token;
then `sustain run` (gunicorn, no worker). One keep-alive client posts `--batches` JSON batches
of `--per-batch` samples grouped by `--series` series (each series its points in a row, the
times one second apart) to `POST /api/v1/metrics/samples`, each answered after its commit;
then as many OTLP/HTTP protobuf requests of the same shape (gauges) to `/v1/metrics`. The
baseline inserts the same (series, time, value) rows with Python's sqlite3 `executemany`,
one batch per transaction, into a copy of the samples table (its DDL read from Sustain's own
database, indexes and foreign key included) in a database file of the same pragmas.
Exits 1 when the JSON rate is under 0.5x the baseline's. With DATABASE_URL set, the server
uses PostgreSQL and the baseline is PostgreSQL's `COPY` of the same rows (one COPY per batch,
one transaction each) into a copy of the samples table in a schema of its own.

Besides the rates (which swing with whatever else the machine runs) it prints the CPU time
per batch: the server's (gunicorn and its workers, user + system, over the JSON phase) beside
the baseline process's own; on PostgreSQL neither counts the database server's CPU.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import SUSTAIN
from _load import free_port, tree_cpu

TARGET = 0.5
T0 = 1_765_100_000  # seconds
SETUP = """
from sustain.accounts.models import Organization, User
from sustain.monitoring.tokens import create_machine_token
provider = Organization.objects.create(name="Northwind", slug="northwind", is_provider=True)
root = User.objects.create_superuser("root@bench.test", "x" * 20, organization=provider)
acme = Organization.objects.create(name="Acme", slug="acme")
print(create_machine_token(root, acme, name="bench")[1])
"""
PRAGMAS = (
    "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
    "PRAGMA cache_size=-64000;PRAGMA mmap_size=268435456;PRAGMA temp_store=MEMORY;"
)
Batch = list[tuple[str, list[list[float]]]]


def sustain(env: dict, *args: str) -> str:
    done = subprocess.run([SUSTAIN, *args], env=env, check=True, capture_output=True, text=True)
    return done.stdout


def batches(n: int, series: int, per_batch: int) -> list[Batch]:
    """n batches: each `series` series of per_batch/series consecutive points."""
    per_series = per_batch // series
    out = []
    for b in range(n):
        start = T0 + b * per_series
        out.append(
            [
                (f"s{s}", [[start + i, float((b * 7 + s + i) % 1000)] for i in range(per_series)])
                for s in range(series)
            ]
        )
    return out


def json_body(batch: Batch, metric: str) -> bytes:
    series = [
        {"name": metric, "labels": {"series": label}, "unit": "ms", "points": points}
        for label, points in batch
    ]
    return json.dumps({"series": series}).encode()


def otlp_body(batch: Batch, metric: str) -> bytes:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )

    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    kv = rm.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "bench"
    m = rm.scope_metrics.add().metrics.add()
    m.name, m.unit = metric, "ms"
    for label, points in batch:
        for t, v in points:
            p = m.gauge.data_points.add()
            p.time_unix_nano = int(t) * 10**9
            p.as_double = v
            a = p.attributes.add()
            a.key, a.value.string_value = "series", label
    return request.SerializeToString()


def post_all(port: int, path: str, bodies: list[bytes], headers: dict, clients: int = 1) -> float:
    """Seconds to post every body, `clients` keep-alive connections taking the next one."""
    queue = list(reversed(bodies))
    lock = threading.Lock()
    failures: list[str] = []
    took: list[float] = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.connect()
        # As urllib3 (the SDK exporters' transport) does: without it, the body's last segment
        # waits for the server's delayed ACK (Nagle), some 40 ms a request.
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            sent = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            answer = response.read()
            took.append(time.perf_counter() - sent)
            if response.status != 200:
                failures.append(f"{path}: {response.status} {answer[:300]!r}")
                return

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        sys.exit(failures[0])
    took.sort()
    print(
        f"  {path}: per request median {took[len(took) // 2] * 1000:.1f} ms, "
        f"max {took[-1] * 1000:.1f} ms"
    )
    return time.perf_counter() - started


def baseline(
    ddl: list[str], data_dir: str, rows: list[list[tuple[int, int, float]]]
) -> tuple[float, float]:
    """Seconds and CPU seconds for raw sqlite3 executemany of every batch."""
    db = sqlite3.connect(Path(data_dir) / "baseline.sqlite3", isolation_level=None)
    db.executescript(PRAGMAS)
    for statement in ddl:
        db.execute(statement)
    ids = sorted({r[0] for batch in rows for r in batch})
    db.executemany("INSERT INTO monitoring_series (id) VALUES (?)", [(i,) for i in ids])
    insert = "INSERT INTO monitoring_sample (series_id, time, value) VALUES (?, ?, ?)"
    started, cpu = time.perf_counter(), time.process_time()
    for batch in rows:
        db.execute("BEGIN IMMEDIATE")
        db.executemany(insert, batch)
        db.execute("COMMIT")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    db.close()
    return seconds, cpu


def copy_baseline(url: str, rows: list[list[tuple[int, int, float]]]) -> tuple[float, float]:
    """Seconds and CPU seconds for PostgreSQL COPY of every batch into a copy of the samples
    table (primary key and foreign key), in a schema dropped afterwards."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute("DROP SCHEMA IF EXISTS bench_copy CASCADE")
        db.execute("CREATE SCHEMA bench_copy")
        db.execute("CREATE TABLE bench_copy.series (id bigint PRIMARY KEY)")
        db.execute(
            "CREATE TABLE bench_copy.sample (time bigint NOT NULL, value double precision NOT "
            "NULL, series_id bigint NOT NULL REFERENCES bench_copy.series (id) DEFERRABLE "
            "INITIALLY DEFERRED, PRIMARY KEY (series_id, time))"
        )
        ids = sorted({r[0] for batch in rows for r in batch})
        with db.cursor() as cur:
            cur.executemany("INSERT INTO bench_copy.series VALUES (%s)", [(i,) for i in ids])
        started, cpu = time.perf_counter(), time.process_time()
        for batch in rows:
            copy = "COPY bench_copy.sample (series_id, time, value) FROM STDIN"
            with db.transaction(), db.cursor() as cur, cur.copy(copy) as into:
                for row in batch:
                    into.write_row(row)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        db.execute("DROP SCHEMA bench_copy CASCADE")
    return seconds, cpu


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


def serve_and_send(
    env: dict, data_dir: str, token: str, work: list[Batch], clients: int
) -> tuple[float, float, float, float]:
    """Seconds for every JSON batch, then for every OTLP request, against `sustain run`, and
    the server's CPU seconds over each of the two phases."""
    json_bodies = [json_body(b, "bench_json") for b in work]
    otlp_bodies = [otlp_body(b, "bench_otlp") for b in work]
    port = free_port()
    auth = {"Authorization": f"Bearer {token}"}
    as_json = {**auth, "Content-Type": "application/json"}
    as_proto = {**auth, "Content-Type": "application/x-protobuf"}
    with open(Path(data_dir) / "server.log", "ab") as log:
        server = subprocess.Popen(
            [SUSTAIN, "run", "--no-worker", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=log,
            process_group=0,
        )
        try:
            _wait_for(port)
            # Warm-up: every worker a client reaches has loaded Django and answered.
            warm = [json_body(b, "warm") for b in work[:4]]
            post_all(port, "/api/v1/metrics/samples", warm, as_json, clients)
            cpu = tree_cpu(server.pid)
            json_s = post_all(port, "/api/v1/metrics/samples", json_bodies, as_json, clients)
            json_cpu, cpu = tree_cpu(server.pid) - cpu, tree_cpu(server.pid)
            otlp_s = post_all(port, "/v1/metrics", otlp_bodies, as_proto, clients)
            otlp_cpu = tree_cpu(server.pid) - cpu
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
    return json_s, otlp_s, json_cpu, otlp_cpu


def samples_table(data_dir: str, expected: int) -> list[str]:
    """The samples table's DDL (and its indexes) from Sustain's database, after checking that
    every sample sent is there."""
    db = sqlite3.connect(Path(data_dir) / "sustain.sqlite3")
    stored = db.execute("SELECT count(*) FROM monitoring_sample").fetchone()[0]
    if stored != expected:
        sys.exit(f"stored {stored} samples, expected {expected}")
    query = "SELECT sql FROM sqlite_master WHERE tbl_name = 'monitoring_sample' AND sql IS NOT NULL"
    ddl = [row[0] for row in db.execute(query)]
    db.close()
    return ddl


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--series", type=int, default=50)
    parser.add_argument("--per-batch", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=1, help="connections posting at once")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="sustain-bench-metrics-", dir="/tmp")
    env = {**os.environ, "SUSTAIN_DATA_DIR": data_dir, "SUSTAIN_LOG_LEVEL": "ERROR"}
    sustain(env, "migrate", "--noinput")
    token = sustain(env, "shell", "-c", SETUP).strip().splitlines()[-1]
    work = batches(args.batches, args.series, args.per_batch)
    per_batch = (args.per_batch // args.series) * args.series
    samples = args.batches * per_batch

    json_s, otlp_s, json_cpu, otlp_cpu = serve_and_send(env, data_dir, token, work, args.clients)

    on_postgres = bool(os.environ.get("DATABASE_URL"))
    copied: list[str] = []
    if not on_postgres:
        copied = samples_table(data_dir, samples * 2 + 4 * per_batch)
    else:  # the same shape, written out
        copied = [
            "CREATE TABLE monitoring_sample (time bigint NOT NULL, value real NOT NULL, "
            "series_id bigint NOT NULL REFERENCES monitoring_series (id) DEFERRABLE INITIALLY "
            "DEFERRED, PRIMARY KEY (series_id, time))"
        ]
    ddl = [
        "CREATE TABLE monitoring_series (id integer NOT NULL PRIMARY KEY AUTOINCREMENT)",
        *copied,
    ]
    rows = [
        [(s + 1, int(t * 1000), v) for s, (_, points) in enumerate(b) for t, v in points]
        for b in work
    ]
    if on_postgres:
        raw_s, raw_cpu = copy_baseline(os.environ["DATABASE_URL"], rows)
    else:
        raw_s, raw_cpu = baseline(ddl, data_dir, rows)

    json_rate, otlp_rate, raw_rate = samples / json_s, samples / otlp_s, samples / raw_s
    ratio = json_rate / raw_rate
    backend = "PostgreSQL" if on_postgres else "SQLite"
    n = args.batches
    print(
        f"samples per run: {samples} in {n} batches of {per_batch} ({args.series} series each); "
        f"{args.clients} client(s); server on {backend}; data in {data_dir}"
    )
    print(
        f"JSON batch over HTTP     {json_rate:>10,.0f} samples/s ({json_s * 1000 / n:.1f} ms a batch)"
    )
    print(
        f"OTLP protobuf over HTTP  {otlp_rate:>10,.0f} points/s  ({otlp_s * 1000 / n:.1f} ms a request)"
    )
    raw_name = "raw PostgreSQL COPY" if on_postgres else "raw sqlite3.executemany"
    print(f"{raw_name:<25}{raw_rate:>10,.0f} rows/s    ({raw_s * 1000 / n:.1f} ms a batch)")
    print(
        f"CPU per batch: server JSON {json_cpu * 1000 / n:.1f} ms, OTLP {otlp_cpu * 1000 / n:.1f}"
        f" ms; baseline process {raw_cpu * 1000 / n:.1f} ms"
    )
    print(f"FIGURE json/raw {ratio:.2f}x (target >= {TARGET}x); otlp {otlp_rate:,.0f} points/s")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
