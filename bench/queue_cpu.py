"""Figure: CPU time per queue page in-process (p50/p95/p99), for a machine that is not quiet.

The wall time of `queue_page.py` grows with whatever else runs on the machine; the CPU time one
request costs the process moves much less. This script runs the same cases as `queue_page.py`
through Django's test client inside one process (middleware, view, queries, template: all of
the request but the socket and gunicorn) and times each with `time.thread_time()`. On SQLite
that includes the database's own work, which runs in the process; on PostgreSQL it does not
(the server's CPU is elsewhere), so there the wall time is printed beside it.

    SUSTAIN_DATA_DIR=/tmp/bench-sqlite .venv/bin/python bench/queue_cpu.py --rounds 40
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time

from _common import AGENT, percentile, summary
from queue_page import CASES, SLA_CASES, TARGET_MS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", default=AGENT)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", choices=["all", "sla"], default="all")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sustain.settings")
    import django

    django.setup()
    from django.test import Client

    from sustain.accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email=args.user))
    cases = SLA_CASES if args.only == "sla" else CASES
    cpu: dict[str, list[float]] = {name: [] for name, _ in cases}
    wall: dict[str, list[float]] = {name: [] for name, _ in cases}
    for i in range(args.warmup + args.rounds):
        if i == args.warmup:
            gc.freeze()  # as sustain/wsgi.py does after start-up
        for name, path in cases:
            started, started_cpu = time.perf_counter(), time.thread_time()
            response = client.get(path)
            spent_cpu, spent = time.thread_time() - started_cpu, time.perf_counter() - started
            if response.status_code != 200:
                sys.exit(f"{name}: GET {path} answered {response.status_code}")
            if i >= args.warmup:
                cpu[name].append(spent_cpu)
                wall[name].append(spent)
    width = max(len(name) for name in cpu)
    print("agent queue page, in-process: CPU time (wall time)")
    for name in cpu:
        print(f"  {name:<{width}}  cpu {summary(cpu[name])}")
        print(f"  {'':<{width}}  wall {summary(wall[name])}")
    everything = [s for samples in cpu.values() for s in samples]
    p95 = percentile(everything, 95) * 1000
    verdict = "met" if p95 < TARGET_MS else "MISSED"
    print(f"  {'ALL':<{width}}  cpu {summary(everything)}")
    print(f"FIGURE agent queue page CPU in-process: p95 {p95:.1f} ms (target < 50 ms: {verdict})")
    sys.exit(0 if p95 < TARGET_MS else 1)


if __name__ == "__main__":
    main()
