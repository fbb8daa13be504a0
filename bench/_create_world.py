"""The creation benchmarks' view of the database (run with the server's environment).

_create_world.py setup            the SLA policy (so every ticket gets its clocks) and a
                                  token for the agent; prints {"token", "since"} (the last
                                  ticket's and outbox row's ids, "T:O")
_create_world.py drain SINCE      waits up to 10 s for the outbox to drain, then checks the
                                  tickets after id T: each has its two clocks and its
                                  requester was mailed, no outbox row after O dead; prints
                                  the findings
"""

from __future__ import annotations

import json
import sys
import time

from _sla_setup import ensure_policy  # sets Django up

from sustain.accounts import actions as accounts
from sustain.accounts.models import User
from sustain.core.models import OutboxMessage
from sustain.desk.models import Ticket
from sustain.sla.models import Clock

AGENT = "alice@sustain.localhost"
DRAIN_SECONDS = 10


def setup() -> dict:
    ensure_policy()
    agent = User.objects.get(email=AGENT)
    _, raw = accounts.create_token(None, agent, name="bench", expires_in_days=1)
    last = Ticket.objects.order_by("-id").values_list("id", flat=True)[0]
    # The dead rows of the demo world (a disabled webhook's deliveries) are not the run's.
    outbox = OutboxMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return {"token": raw, "since": f"{last}:{outbox}"}


def drain(since: int, outbox_since: int = 0) -> dict:
    started = time.monotonic()
    pending = OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING)
    while pending.exists() and time.monotonic() - started < DRAIN_SECONDS:
        time.sleep(0.2)
    drained_in = time.monotonic() - started
    tickets = dict(
        Ticket.objects.filter(pk__gt=since).values_list("pk", "requester__email").iterator()
    )
    clocks = Clock.objects.filter(ticket_id__gt=since).values_list("ticket_id", flat=True)
    counted: dict[int, int] = {}
    for ticket_id in clocks.iterator():
        counted[ticket_id] = counted.get(ticket_id, 0) + 1
    mailed = set(
        OutboxMessage.objects.filter(
            kind="email", state=OutboxMessage.State.SENT, dedupe_key__startswith="ticket-created:"
        ).values_list("dedupe_key", flat=True)
    )
    return {
        "tickets": len(tickets),
        "drained": not pending.exists(),
        "drained_in": round(drained_in, 2),
        "pending": pending.count(),
        "dead": OutboxMessage.objects.filter(
            state=OutboxMessage.State.DEAD, id__gt=outbox_since
        ).count(),
        "without_clocks": sum(1 for pk in tickets if counted.get(pk, 0) < 2),
        "requester_not_mailed": sum(
            1 for pk, email in tickets.items() if f"ticket-created:{pk}:{email}" not in mailed
        ),
    }


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        print(json.dumps(setup()))
    else:
        tickets, _, outbox = sys.argv[2].partition(":")
        print(json.dumps(drain(int(tickets), int(outbox or 0))))
