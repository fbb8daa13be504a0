"""Figure: GET /api/v1/tickets latency (p50/p95/p99) over several filters and a deep page.

Run against a server holding the 1M-ticket data set (see bench/README.md):

    SUSTAIN_DATA_DIR=/tmp/bench-sqlite .venv/bin/python bench/list_api.py --rounds 40
"""

from __future__ import annotations

import sys
from urllib.parse import parse_qsl, urlencode, urlsplit

from _common import api_client, arguments, measure, report, results

TARGET_MS = 50


def deep_path(client, depth: int, start: str = "/api/v1/tickets?limit=200") -> str:
    """The URL of the page that starts `depth` tickets down the list at `start` (200 a page)."""
    path = start
    walked = 0
    while walked < depth:
        status, body, _ = client.get(path)
        page = results(body)
        if status != 200 or not page["next"]:
            sys.exit(f"The list ended after {walked} tickets, before {depth}.")
        walked += len(page["results"])
        parts = urlsplit(page["next"])
        path = f"{parts.path}?{parts.query}"
    parts = urlsplit(path)
    query = dict(parse_qsl(parts.query)) | {"limit": "50"}
    return f"{parts.path}?{urlencode(query)}"


def main() -> None:
    parser = arguments(__doc__.splitlines()[0], rounds=40, warmup=3, deep=100_000)
    parser.add_argument("--only", choices=["all", "sla"], default="all")
    args = parser.parse_args()
    client = api_client(args.url, args.token, args.user)
    teams = results(client.get("/api/v1/teams")[1])["results"]
    team = teams[0]["slug"]
    cases = (
        []
        if args.only == "sla"
        else [
            ("default", "/api/v1/tickets"),
            ("queue=unassigned", "/api/v1/tickets?queue=unassigned"),
            ("queue=mine", "/api/v1/tickets?queue=mine"),
            ("status=open", "/api/v1/tickets?status=open"),
            ("status=new,pending", "/api/v1/tickets?status=new,pending"),
            ("organization=acme", "/api/v1/tickets?organization=acme"),
            ("organization=acme&status=open", "/api/v1/tickets?organization=acme&status=open"),
            (f"team={team}", f"/api/v1/tickets?team={team}"),
            (f"team={team}&queue=open", f"/api/v1/tickets?team={team}&queue=open"),
            ("assignee=me", "/api/v1/tickets?assignee=me"),
            ("order=priority", "/api/v1/tickets?order=priority"),
            ("queue=open&order=priority", "/api/v1/tickets?queue=open&order=priority"),
            ("order=updated", "/api/v1/tickets?order=updated"),
            ("priority=1&status=open", "/api/v1/tickets?priority=1&status=open"),
            (f"cursor {args.deep} deep", deep_path(client, args.deep)),
        ]
    )
    # The SLA-first queues and order (`--only sla`: these alone).
    cases += [
        ("queue=breached", "/api/v1/tickets?queue=breached"),
        ("queue=due_soon", "/api/v1/tickets?queue=due_soon"),
        ("queue=open&order=due", "/api/v1/tickets?queue=open&order=due"),
        ("queue=mine&order=due", "/api/v1/tickets?queue=mine&order=due"),
        ("order=due", "/api/v1/tickets?order=due"),
        (
            f"queue=breached, cursor {args.deep // 5} deep",
            deep_path(client, args.deep // 5, "/api/v1/tickets?queue=breached&limit=200"),
        ),
        (
            f"order=due, cursor {args.deep} deep",
            deep_path(client, args.deep, "/api/v1/tickets?order=due&limit=200"),
        ),
    ]

    def check(name: str, body: bytes) -> None:
        if not results(body)["results"]:
            print(f"  warning: {name} returned no tickets", file=sys.stderr)

    timings = measure(client, cases, rounds=args.rounds, warmup=args.warmup, check=check)
    ok = report("ticket list API (GET /api/v1/tickets, 50 per page)", timings, TARGET_MS)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
