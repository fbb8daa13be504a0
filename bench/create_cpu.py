"""Figure: CPU time and statements per ticket creation in-process, web request and worker apart.

The rates of `create_api.py` and `create_vs_peer.py` move with whatever else runs on the shared
machine; what one creation costs in CPU moves much less. This script posts `--tickets` tickets
to `POST /api/v1/tickets` through the WSGI handler inside one process (middleware, ninja, the
action, the answer: all of the request but the socket and gunicorn) with a bearer token, timing
each with `time.thread_time()` and counting its statements; then it delivers the outbox as the
worker does (`outbox.deliver_due`: the notification rendered, the requester's mail written) and
times that per ticket. On SQLite the database's own work is in the figures; on PostgreSQL it is
not (the wall time is printed beside). `--profile` prints the cProfile of the web part.

    SUSTAIN_DATA_DIR=/tmp/bench-create .venv/bin/python bench/create_cpu.py --tickets 300

The data dir (or DATABASE_URL) needs the demo world (`sustain demo`); the script adds the
"Bench" SLA policy and a token as the other creation benchmarks do, and leaves its tickets.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import sys
import time

from _common import summary

TARGET_MS = 8.0  # twice django-helpdesk's ~120/s on two cores leaves ~8 ms a ticket


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="cProfile of the web part")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--lines", type=int, default=60)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sustain.settings")
    import _create_world  # sets Django up
    from create_api import body_maker
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from sustain.core import outbox

    world = _create_world.setup()
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {world['token']}")
    body = body_maker("acme", "carol@acme.example")
    cpu, wall, statements = [], [], []
    profile = cProfile.Profile() if args.profile else None
    worker_cpu = 0.0
    for i in range(args.warmup + args.tickets):
        if i == args.warmup:
            gc.collect()
            gc.freeze()  # as sustain/wsgi.py does after start-up
            worker_started = time.thread_time()
            outbox.deliver_due()  # the warm-up's mails, not counted
            worker_cpu -= time.thread_time() - worker_started
        counted = i >= args.warmup
        with CaptureQueriesContext(connection) as queries:
            if profile is not None and counted:
                profile.enable()
            started, started_cpu = time.perf_counter(), time.thread_time()
            response = client.post("/api/v1/tickets", body(0, i), content_type="application/json")
            spent_cpu, spent = time.thread_time() - started_cpu, time.perf_counter() - started
            if profile is not None and counted:
                profile.disable()
        if response.status_code != 201:
            sys.exit(f"POST answered {response.status_code}: {response.content[:300]!r}")
        if counted:
            cpu.append(spent_cpu)
            wall.append(spent)
            statements.append(len(queries.captured_queries))
    worker_started = time.thread_time()
    outbox.deliver_due(limit=10 * args.tickets)
    worker_cpu += time.thread_time() - worker_started
    worker_ms = worker_cpu * 1000 / args.tickets
    web_ms = sum(cpu) * 1000 / len(cpu)
    print(f"ticket creation in-process, {args.tickets} tickets ({connection.vendor})")
    print(f"  web request  cpu  {summary(cpu)}")
    print(f"  web request  wall {summary(wall)}")
    print(f"  statements per creation: {min(statements)}-{max(statements)}")
    print(f"  worker (outbox delivery) {worker_ms:.1f} ms CPU per ticket")
    if profile is not None:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(args.lines)
        print(out.getvalue())
    total = web_ms + worker_ms
    print(
        "FIGURE ticket creation CPU in-process: "
        + json.dumps({"web_ms": round(web_ms, 2), "worker_ms": round(worker_ms, 2)})
        + f" = {total:.1f} ms a ticket (target <= {TARGET_MS:.0f} ms: "
        + f"{'met' if total <= TARGET_MS else 'MISSED'})"
    )
    sys.exit(0 if total <= TARGET_MS else 1)


if __name__ == "__main__":
    main()
