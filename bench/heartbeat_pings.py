"""Figure: heartbeat pings per second, beside a bare Django view on the same server.

Starts its own server: `sustain run` (gunicorn with its default workers and threads, and the
worker) on a fresh SQLite data directory under /tmp (or DATABASE_URL when set: a database of
your own), with one heartbeat per client (bench/_monitoring_world.py). Then, closed loop with
`--clients` threads (one keep-alive connection each, the next request sent when the last was
answered) for `--seconds` after `--warmup`:

1. the ceiling: `GET /healthz`, a view that answers 200 after a `SELECT 1`, through the same
   middleware as every page: what the server can answer at all;
2. pings as a cron job sends them: `POST /ping/<uuid>/start?rid=…`, then the run's end with
   its log as the body, `POST /ping/<uuid>/<exit status>?rid=…` (0, and 1 once in every
   `--fail-every` runs: down, an alert and its incident; the next success resolves them).
   Every ping is a row of the heartbeat's log and changes its state (started, up or down).

Target: ≥ 500 pings/s. Afterwards the ping rows, heartbeat states and alerts are counted.

    .venv/bin/python bench/heartbeat_pings.py [--clients 16] [--seconds 15] [--warmup 3]
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

from _common import arguments, percentile
from _load import Outcome, Server, closed_loop, cpu_ms

TARGET_PER_SECOND = 500
WORLD = str(Path(__file__).resolve().parent / "_monitoring_world.py")
LOG = b"rsync: sent 1,204,331 bytes  received 9,802 bytes  total size 88,123,901\n" * 4


def line(name: str, outcome: Outcome, cpu_seconds: float) -> str:
    p95 = percentile(outcome.latencies, 95) * 1000 if outcome.latencies else 0.0
    failed = f", failed {outcome.failures} ({outcome.first_error})" if outcome.failed() else ""
    return (
        f"  {name:<26} {outcome.rate:7.1f}/s  p95 {p95:6.1f} ms  "
        f"server CPU {cpu_ms(cpu_seconds, outcome):5.2f} ms/request{failed}"
    )


def main() -> None:
    parser = arguments(__doc__.splitlines()[0], clients=16, seconds=15, warmup=3, fail_every=50)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    with Server(demo=False) as server:
        beats = server.world("setup", str(args.clients), script=WORLD)["heartbeats"]
        runs = {n: uuid.uuid4() for n in range(args.clients)}

        def ping_path(number: int, i: int) -> str:
            if i % 2:  # a run starts
                runs[number] = uuid.uuid4()
                return f"/ping/{beats[number]}/start?rid={runs[number]}"
            status = 1 if (i // 2) % args.fail_every == args.fail_every - 1 else 0
            return f"/ping/{beats[number]}/{status}?rid={runs[number]}"

        def measured(name: str, **load) -> Outcome:
            marks: list[float] = []
            outcome = closed_loop(
                server.url,
                clients=args.clients,
                seconds=args.seconds,
                warmup=args.warmup,
                expect=200,
                at_start=lambda: marks.append(server.cpu()),
                **load,
            )
            print(line(name, outcome, server.cpu() - marks[0]))
            return outcome

        print(f"{args.clients} clients, {args.seconds} s each after {args.warmup} s of warm-up")
        ceiling = measured(
            "GET /healthz (ceiling)",
            path="/healthz",
            headers={},
            body=lambda number, i: b"",
            method="GET",
        )
        pings = measured(
            "POST /ping/… (start, end)",
            path=ping_path,
            headers={"Content-Type": "text/plain"},
            body=lambda number, i: b"" if i % 2 else LOG,
        )
        found = server.world("pings", script=WORLD)
    print(f"  after: {found}")
    print(f"load average after: {os.getloadavg()}")
    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    met = pings.rate >= TARGET_PER_SECOND and not pings.failed()
    share = pings.rate / ceiling.rate * 100 if ceiling.rate else 0.0
    print(
        f"FIGURE heartbeat pings: {pings.rate:.0f}/s on {database} "
        f"({share:.0f} % of the bare view's {ceiling.rate:.0f}/s; target ≥ {TARGET_PER_SECOND}/s: "
        f"{'met' if met else 'MISSED'})"
    )
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
