"""Figure: full-text search GET /api/v1/tickets?q=… latency p50/p95/p99.

Common words (in a large share of the tickets), rare ones (a handful), prefixes, several
words, a word found nowhere, and search combined with a filter:

    SUSTAIN_DATA_DIR=/tmp/bench-sqlite .venv/bin/python bench/search_api.py --rounds 40
"""

from __future__ import annotations

import sys
from urllib.parse import quote

from _common import api_client, arguments, measure, report, results

TARGET_MS = 100
QUERIES = [
    ("common: error (53% of tickets)", "error"),
    ("common: login (16%)", "login"),
    ("common prefix: data", "data"),
    ("less common: ledgerline (0.4%)", "ledgerline"),
    ("rare: E12345 (a handful)", "E12345"),
    ("host name, 3 prefixes: acme-app-07", "acme-app-07"),
    ("two common: checkout 502", "checkout 502"),
    ("two words: password reset", "password reset"),
    ("common + less common: error reconciliation", "error reconciliation"),
    ("three words: timeout database export", "timeout database export"),
    ("no hit: zzzyxq", "zzzyxq"),
]


def main() -> None:
    args = arguments(__doc__.splitlines()[0], rounds=40, warmup=3).parse_args()
    client = api_client(args.url, args.token, args.user)
    cases = [(name, f"/api/v1/tickets?q={quote(q)}") for name, q in QUERIES]
    cases += [
        ("error + status=open", "/api/v1/tickets?q=error&status=open"),
        ("login + organization=acme", "/api/v1/tickets?q=login&organization=acme"),
    ]
    counts: dict[str, int] = {}

    def check(name: str, body: bytes) -> None:
        counts[name] = len(results(body)["results"])

    timings = measure(client, cases, rounds=args.rounds, warmup=args.warmup, check=check)
    print("results on the first page:", ", ".join(f"{k} {v}" for k, v in counts.items()))
    ok = report("full-text search (GET /api/v1/tickets?q=…, 50 per page)", timings, TARGET_MS)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
