"""The demo's last hours: tickets placed so that, when a new user logs in, the queues show
every SLA state and the engine's work on them.

Times are counted back from the moment the demo is loaded. Acme is measured around the clock
(service.py), so its tickets are in these states whatever the hour: a P1 nobody answered (its
response breached, the managers told, the person on call paged and not answered yet), a
resolution and a response due within the hour (amber), one well within its targets (green),
one waiting on the customer (paused) and one long overdue (red). Globex and Initech, on office
hours, add an unassigned ticket the escalation handed to the service desk, and mail held for
review: from a stranger, and from a customer answering another customer's ticket.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sustain.demo import mails
from sustain.demo.history import Story, Timeline, move, say, take
from sustain.desk.models import Kind, Status

H, M = timedelta(hours=1), timedelta(minutes=1)


def _story(timeline: Timeline, ago: timedelta, requester: Any, **fields: Any) -> Story:
    return Story(timeline).open(timeline.now - ago, requester, by_mail=False, **fields)


def last_hours(
    timeline: Timeline, people: dict[str, Any], items: dict[str, Any], teams: dict
) -> None:
    now = timeline.now
    carol, ops, dave, erin = people["carol"], people["acme-ops"], people["dave"], people["erin"]
    alice, bob = people["alice"], people["bob"]
    desk_team, platform = teams["desk"], teams["platform"]

    # Red, escalated, paged: a P1 nobody has answered for 25 minutes (target 15).
    _story(
        timeline,
        25 * M,
        carol,
        title="Checkout page returns 502 after deploy",
        description="Since the deploy at noon every checkout ends in a 502 Bad Gateway.",
        affected_ci=items["acme-production"],
        impact=1,
        urgency=1,
    )
    # Amber: resolution due in an hour (P2, 8 hours), the assignee reminded.
    (
        _story(
            timeline,
            7 * H,
            carol,
            title="Invoice PDF shows wrong VAT rate",
            description="Invoices for Austria show 19 % VAT instead of 20 %.",
            affected_ci=items["acme-production"],
            impact=1,
            urgency=2,
        )
        .then(now - 6 * H - 45 * M, take(alice, desk_team, "Thanks, we are looking into it."))
        .then(now - 5 * H, say(carol, "Here is one of the invoices: AT-2026-1187.", by_mail=True))
        .then(now - 4 * H, say(alice, "Found it: the rate table misses the 2026 update."))
    )
    # Amber: nobody answered yet, response due in half an hour (P4, 4 hours).
    _story(
        timeline,
        3 * H + 30 * M,
        ops,
        title="Nightly export job did not run",
        description="The export folder has no file for last night.",
        affected_ci=items["acme-app-01"],
        impact=3,
        urgency=3,
        kind=Kind.REQUEST,
    )
    # Green: answered, resolution due tomorrow.
    _story(
        timeline,
        90 * M,
        carol,
        title="Search returns no results for accented names",
        description="Searching for 'Müller' finds nothing; 'Muller' does.",
        affected_ci=items["acme-production"],
        impact=2,
        urgency=2,
    ).then(now - 80 * M, take(bob, platform, "Reproduced; it is the search index's collation."))
    # Paused: waiting for the customer.
    _story(
        timeline,
        5 * H,
        ops,
        title="Please add a new user for the finance team",
        description="Our new controller starts on Monday.",
        kind=Kind.REQUEST,
        impact=3,
        urgency=2,
    ).then(
        now - 4 * H - 50 * M, take(alice, desk_team, "Gladly: what are the name and e-mail?")
    ).then(now - 4 * H - 49 * M, move(alice, Status.PENDING))
    # Red: resolution overdue by half a day (P2, 8 hours, opened 20 hours ago).
    _story(
        timeline,
        20 * H,
        carol,
        title="Dashboard loads slowly since Monday",
        description="The dashboard takes 40 s to load.",
        affected_ci=items["acme-production"],
        impact=2,
        urgency=1,
    ).then(now - 19 * H - 50 * M, take(bob, platform, "Looking at the slow query log now."))
    # Office hours: a Globex incident three days old; an Initech one nobody took.
    _story(
        timeline,
        timedelta(days=3),
        dave,
        title="Database disk usage at 85%",
        description="The monitoring warns about the disk of globex-db.",
        affected_ci=items["globex-db"],
        impact=1,
        urgency=2,
    ).then(now - timedelta(days=3) + 30 * M, take(bob, platform, "We will add a volume."))
    _story(
        timeline,
        timedelta(days=1),
        erin,
        title="SSL certificate expires next week",
        description="The browser warns that the certificate of the gateway expires soon.",
        affected_ci=items["initech-production"],
        impact=2,
        urgency=2,
    )
    # Mail for review: a stranger asking about a contract; Dave answering Acme's ticket.
    timeline.add(
        now - 40 * M,
        lambda: mails.write(
            ("Frank Fischer", "frank@umbrella.example"),
            "Support contract for our new shop?",
            "Hello,\n\nwe are opening a web shop in spring. Do you offer support contracts "
            "with 24×7 response times? Who can I talk to?\n\nFrank Fischer, Umbrella Retail",
        ),
    )

    def stray_reply() -> None:
        from sustain.desk.models import Ticket

        ticket = (
            Ticket.objects.filter(
                organization__slug="acme", title="Invoice PDF shows wrong VAT rate"
            )
            .order_by("-id")
            .first()
        )
        if ticket is not None:
            mails.reply(dave, ticket, "We see the same VAT error on our invoices, by the way.")

    timeline.add(now - 2 * H, stray_reply)
