"""Figure: scheduling lag of probes (how late a run starts after it was due), p95.

Target: under 2 s with 1,000 HTTP probes at a 60 s interval against local HTTP servers. A fresh
SQLite data directory (or DATABASE_URL's database, migrated), the servers in a process of their
own on 127.0.0.1 (allowed through SUSTAIN_OUTBOUND_ALLOW_NETWORKS for the run), the probes'
first runs spread over the first minute; then the scheduler (`probe_runs.Scheduler`, the loop the
worker runs in a thread) for `--seconds` in this process, and `--processes` − 1 more
`sustain probes` beside it sharing the due probes. Every run's lag is its result's `lag_ms`.

    .venv/bin/python bench/probes.py [--probes 1000] [--seconds 150] [--processes 1]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVERS = """
import sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
servers = [ThreadingHTTPServer(("127.0.0.1", 0), H) for _ in range(int(sys.argv[1]))]
for s in servers:
    s.daemon_threads = True
    threading.Thread(target=s.serve_forever, daemon=True).start()
print(" ".join(str(s.server_address[1]) for s in servers), flush=True)
sys.stdin.read()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=150)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL"):
        os.environ["SUSTAIN_DATA_DIR"] = tempfile.mkdtemp(prefix="sustain-bench-probes-")
    os.environ["SUSTAIN_OUTBOUND_ALLOW_NETWORKS"] = "127.0.0.0/8"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sustain.settings")
    os.environ.setdefault("SUSTAIN_SECRET_KEY", "bench-probes-not-secret")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from sustain.accounts.models import Organization, Role, User
    from sustain.monitoring import actions, probe_runs
    from sustain.monitoring.models import Probe, ProbeResult

    call_command("migrate", verbosity=0)
    servers = subprocess.Popen(
        [sys.executable, "-c", SERVERS, str(args.servers)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    ports = (servers.stdout.readline() if servers.stdout else "").split()
    provider, _ = Organization.objects.get_or_create(
        slug="bench-provider", defaults={"name": "Bench provider", "is_provider": True}
    )
    customer, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    manager = User.objects.filter(email="bench-manager@example.test").first()
    if manager is None:
        manager = User.objects.create_user(
            "bench-manager@example.test", None, organization=provider, role=Role.MANAGER
        )
    Probe.objects.filter(organization=customer).delete()
    made = time.perf_counter()
    later = timezone.now() + timedelta(days=1)
    for i in range(args.probes):
        actions.create_probe(
            manager,
            customer,
            name=f"bench {i:04d}",
            url=f"http://127.0.0.1:{ports[i % len(ports)]}/health",
            json_path="$.status",
            json_expected="ok",
            interval_seconds=60,
            timeout_seconds=5,
            now=later,
        )
    print(f"{args.probes} probes made in {time.perf_counter() - made:.1f} s")
    # The first runs spread over the first minute from now (made first, so that making them
    # takes nothing from the measured lag).
    start = timezone.now() + timedelta(seconds=1)
    with transaction.atomic():
        ids = (
            Probe.objects.filter(organization=customer).order_by("id").values_list("pk", flat=True)
        )
        for i, pk in enumerate(list(ids)):
            at = start + timedelta(seconds=60 * i / args.probes)
            Probe.objects.filter(pk=pk).update(next_run_at=at)

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    others = [
        subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "sustain"), "probes", "--seconds", str(args.seconds)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(args.processes - 1)
    ]
    began = time.perf_counter()
    ran = probe_runs.Scheduler(args.concurrency).run(seconds=args.seconds)
    wall = time.perf_counter() - began
    for other in others:
        other.wait(timeout=120)
    servers.terminate()

    results = ProbeResult.objects.filter(probe__organization=customer)
    lags = sorted(results.values_list("lag_ms", flat=True))
    failed = results.filter(ok=False).count()
    runs = len(lags)
    per_probe = {}
    for probe_id, at in results.order_by("at").values_list("probe_id", "at"):
        per_probe.setdefault(probe_id, []).append(at)
    too_close = sum(
        1
        for times in per_probe.values()
        for a, b in itertools.pairwise(times)
        if (b - a).total_seconds() < 30
    )

    def pct(p: float) -> float:
        return lags[min(runs - 1, int(p * runs))] / 1000 if runs else float("nan")

    load = os.getloadavg()[0]
    print(f"runs: {runs} in {wall:.0f} s ({ran} by this process), failed: {failed}")
    print(f"runs of one probe closer than 30 s apart (run twice): {too_close}")
    print(
        f"lag p50 {pct(0.50):.3f} s, p95 {pct(0.95):.3f} s, p99 {pct(0.99):.3f} s, "
        f"max {lags[-1] / 1000 if lags else 0:.3f} s, mean {statistics.fmean(lags) / 1000:.3f} s"
    )
    print(f"load average {load:.1f}, {args.processes} process(es), {args.concurrency} threads each")
    p95 = pct(0.95)
    print(f"FIGURE probe scheduling lag p95 = {p95:.3f} s (target < 2 s)")
    return 0 if p95 < 2 and not too_close and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
