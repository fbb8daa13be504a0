"""Figure: the agent queue page (/desk/?queue=…, full page with sidebar) latency p50/p95/p99.

The SLA-first queues (breached, due soon, order=due) are timed beside the others; `--only sla`
times them alone.

Logs in through the login form as an agent and times whole-page GETs of several queues:

    SUSTAIN_DATA_DIR=/tmp/bench-sqlite .venv/bin/python bench/queue_page.py --rounds 40
"""

from __future__ import annotations

import sys

from _common import PASSWORD, arguments, logged_in, measure, report

TARGET_MS = 50
CASES = [
    ("/desk/ (open)", "/desk/"),
    ("queue=open", "/desk/?queue=open"),
    ("queue=mine", "/desk/?queue=mine"),
    ("queue=team", "/desk/?queue=team"),
    ("queue=unassigned", "/desk/?queue=unassigned"),
    ("queue=all", "/desk/?queue=all"),
    ("queue=open&organization=acme", "/desk/?queue=open&organization=acme"),
    ("queue=open&order=priority", "/desk/?queue=open&order=priority"),
    ("status=pending", "/desk/?status=pending"),
    ("queue=breached", "/desk/?queue=breached"),
    ("queue=due_soon", "/desk/?queue=due_soon"),
    ("queue=open&order=due", "/desk/?queue=open&order=due"),
    ("queue=mine&order=due", "/desk/?queue=mine&order=due"),
]
SLA_CASES = [case for case in CASES if "breached" in case[0] or "due" in case[0]]


def main() -> None:
    parser = arguments(__doc__.splitlines()[0], rounds=40, warmup=3)
    parser.add_argument("--password", default=PASSWORD)
    parser.add_argument("--only", choices=["all", "sla"], default="all")
    args = parser.parse_args()
    client = logged_in(args.url, args.user, args.password)
    cases = CASES
    if args.only == "sla":
        cases = SLA_CASES

    def check(name: str, body: bytes) -> None:
        if b'href="/desk/t/' not in body and b"/desk/" not in body:
            print(f"  warning: {name} shows no tickets", file=sys.stderr)

    timings = measure(client, cases, rounds=args.rounds, warmup=args.warmup, check=check)
    ok = report("agent queue page (GET /desk/?queue=…, logged in)", timings, TARGET_MS)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
