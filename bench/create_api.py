"""Figure: ticket creations through POST /api/v1/tickets, closed loop (rate) or open loop (p95).

By default it starts its own server: `sustain run` (gunicorn and the worker) on a fresh data
directory under /tmp (and on DATABASE_URL when that is set: a database of your own), with the
demo world, an SLA policy and a token for the agent alice; then

    .venv/bin/python bench/create_api.py --clients 16            # closed loop: tickets/s
    .venv/bin/python bench/create_api.py --rate 100              # open loop: p50/p95/p99

Closed loop: each client thread holds one keep-alive connection and posts tickets back to back
for --seconds (after --warmup seconds that are not counted). Open loop: --rate creations a
second are due at fixed times for --seconds, and latency counts from the due time. Every
ticket has a requester (carol@acme.example), so each creation also queues her notification;
afterwards the outbox must drain within 10 s, every ticket have its two SLA clocks and its
requester's mail, and nothing have failed. `--running` measures the server at `--url`
instead (no drain check there: that needs its database).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from _common import arguments, create_token, percentile, summary
from _load import Outcome, Server, closed_loop, cpu_ms, open_loop

TARGET_PER_SECOND = {"sqlite": 240, "postgresql": 180}
TARGET_P95_MS = 100


def body_maker(organization: str, requester: str):
    def body(number: int, i: int) -> bytes:
        return json.dumps(
            {
                "title": f"Bench: checkout returns 502 (client {number}, #{i})",
                "description": "Created by bench/create_api.py.\n\nSteps: open the page.",
                "organization": organization,
                "requester": requester,
                "impact": 1 + i % 3,
                "urgency": 1 + number % 3,
            }
        ).encode()

    return body


def drained_ok(found: dict[str, Any]) -> bool:
    print(
        f"  outbox    drained={found['drained']} in {found['drained_in']} s, "
        f"pending {found['pending']}, dead {found['dead']}; {found['tickets']} tickets, "
        f"{found['without_clocks']} without their clocks, "
        f"{found['requester_not_mailed']} whose requester was not mailed"
    )
    return (
        found["drained"]
        and not found["dead"]
        and not found["without_clocks"]
        and not found["requester_not_mailed"]
    )


def report_outcome(outcome: Outcome, title: str) -> None:
    print(title)
    print(
        f"  created   {len(outcome.latencies)}   failed {outcome.failed()} {outcome.failures or ''}"
    )
    if outcome.first_error:
        print(f"  first failure: {outcome.first_error}")
    if outcome.latencies:
        print(f"  latency   {summary(outcome.latencies)}")


def main() -> None:
    parser = arguments(__doc__.splitlines()[0], clients=16, seconds=20, warmup=3)
    parser.add_argument("--rate", type=float, default=0, help="open loop: creations offered/s")
    parser.add_argument("--organization", default="acme")
    parser.add_argument("--requester", default="carol@acme.example")
    parser.add_argument(
        "--running", action="store_true", help="measure the server at --url (with --token)"
    )
    args = parser.parse_args()
    own = not args.running
    database = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
    body = body_maker(args.organization, args.requester)
    with Server() if own else _Running(args.url) as server:
        world = (
            server.world("setup")
            if own
            else {"token": args.token or create_token(args.user), "since": None}
        )
        headers = {"Authorization": f"Bearer {world['token']}", "Content-Type": "application/json"}
        before, parts = [server.cpu()], [server.cpu_parts()]
        if args.rate:
            outcome = open_loop(
                server.url,
                "/api/v1/tickets",
                headers,
                body,
                rate=args.rate,
                seconds=args.seconds,
                warmup=args.warmup,
            )
            report_outcome(
                outcome, f"open loop, {args.rate:.0f} creations/s offered, {args.seconds} s"
            )
        else:
            outcome = closed_loop(
                server.url,
                "/api/v1/tickets",
                headers,
                body,
                clients=args.clients,
                seconds=args.seconds,
                warmup=args.warmup,
                at_start=lambda: (
                    before.__setitem__(0, server.cpu()),
                    parts.__setitem__(0, server.cpu_parts()),
                ),
            )
            report_outcome(outcome, f"closed loop, {args.clients} clients, {args.seconds} s")
        drained = drained_ok(server.world("drain", str(world["since"]))) if own else True
        after = server.cpu_parts()  # the worker's delivery of the last mails included
        if own:
            used = cpu_ms(server.cpu() - before[0], outcome)
            print(f"  server    {used:.1f} ms CPU per ticket (web workers and the worker)")
            print(
                "            of which "
                + ", ".join(
                    f"{name} {cpu_ms(after[name] - parts[0].get(name, 0.0), outcome):.1f} ms"
                    for name in ("web", "worker")
                )
            )
    ok = figure(args, database, outcome, drained)
    sys.exit(0 if ok else 1)


def figure(args: Any, database: str, outcome: Outcome, drained: bool) -> bool:
    """Print the FIGURE line; whether the target is met."""
    ok = drained and not outcome.failed() and bool(outcome.latencies)
    if args.rate:
        p95 = percentile(outcome.latencies, 95) * 1000 if outcome.latencies else float("inf")
        ok = ok and p95 < TARGET_P95_MS
        print(
            f"FIGURE ticket creation at {args.rate:.0f}/s offered ({database}): p95 {p95:.1f} ms "
            f"(target < {TARGET_P95_MS} ms, outbox drained, no failures: "
            f"{'met' if ok else 'MISSED'})"
        )
    else:
        target = TARGET_PER_SECOND[database]
        ok = ok and outcome.rate >= target
        print(
            f"FIGURE ticket creation ({database}, {args.clients} clients): {outcome.rate:.0f} "
            f"tickets/s (target >= {target}/s, outbox drained, no failures: "
            f"{'met' if ok else 'MISSED'})"
        )
    return ok


class _Running:
    """A server someone else started (--url): nothing to start or stop."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> _Running:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def cpu(self) -> float:
        return 0.0

    def cpu_parts(self) -> dict[str, float]:
        return {"web": 0.0, "worker": 0.0}


if __name__ == "__main__":
    main()
