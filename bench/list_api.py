"""Figure: GET /api/v1/tickets latency (p50/p95/p99) over several filters and a deep page.

Run against a server holding the 1M-ticket data set (see bench/README.md):

    SUSTAIN_DATA_DIR=/tmp/bench-sqlite .venv/bin/python bench/list_api.py --rounds 40
"""

from __future__ import annotations

import sys
from urllib.parse import parse_qsl, urlencode, urlsplit

from _common import api_client, arguments, measure, report, results

TARGET_MS = 50


def deep_path(client, depth: int) -> str:
    """The URL of the page that starts `depth` tickets down the default list."""
    path = "/api/v1/tickets?limit=200"
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
    args = arguments(__doc__.splitlines()[0], rounds=40, warmup=3, deep=100_000).parse_args()
    client = api_client(args.url, args.token, args.user)
    teams = results(client.get("/api/v1/teams")[1])["results"]
    team = teams[0]["slug"]
    cases = [
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

    def check(name: str, body: bytes) -> None:
        if not results(body)["results"]:
            print(f"  warning: {name} returned no tickets", file=sys.stderr)

    timings = measure(client, cases, rounds=args.rounds, warmup=args.warmup, check=check)
    ok = report("ticket list API (GET /api/v1/tickets, 50 per page)", timings, TARGET_MS)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
