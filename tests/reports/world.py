"""The reports' fixture world: an office calendar, one policy, and tickets of two customers
opened, answered, resolved and breached at fixed times.

Targets per priority p: first response 60·p business minutes, resolution 480·p.
Business hours: Monday to Friday 09:00–17:00 UTC. Monday 2 November 2026 09:00 is the start
of November's story, Monday 5 October 2026 09:00 of October's.

    A1  Acme P1  Nov  answered after 45 min (met), resolved after 4 h (met)
    A2  Acme P1  Nov  first response breached by the sweep at 10:00; still open
    A3  Acme P3  Nov  answered after 4 h, over its 3 h target before any sweep (late); cancelled
    A4  Acme P1  Oct  answered after 15 min (met), resolved after exactly 8 h (met, on the dot)
    G1  Globex P1 Nov answered after 30 min (met); still open
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from sustain.accounts.models import Organization, User
from sustain.desk import actions as desk
from sustain.desk.models import Ticket
from sustain.sla import sweep
from sustain.sla.models import Calendar, Metric, Policy, Target
from tests.base import SustainTestCase

NOV = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
OCT = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)  # a Monday
WEEKDAYS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
IMPACT_URGENCY = {1: (1, 1), 2: (1, 2), 3: (2, 2), 4: (3, 3)}


def at(start: datetime, hours: float = 0, days: int = 0) -> datetime:
    return start + timedelta(days=days, hours=hours)


class ReportTestCase(SustainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        office = Calendar.objects.create(name="Office", timezone="UTC", hours=WEEKDAYS)
        policy = Policy.objects.create(name="Standard", calendar=office)
        for p in (1, 2, 3, 4):
            Target.objects.create(
                policy=policy, priority=p, metric=Metric.FIRST_RESPONSE, minutes=60 * p
            )
            Target.objects.create(
                policy=policy, priority=p, metric=Metric.RESOLUTION, minutes=480 * p
            )

    # --- the story's verbs, each at a fixed time ------------------------------------------
    @classmethod
    def open_at(
        cls, when: datetime, organization: Organization, priority: int, title: str
    ) -> Ticket:
        impact, urgency = IMPACT_URGENCY[priority]
        requester: User = cls.carol if organization == cls.acme else cls.dave
        with time_machine.travel(when, tick=False):
            ticket = desk.open_ticket(
                cls.alice,
                title=title,
                organization=organization,
                requester=requester,
                impact=impact,
                urgency=urgency,
            )
        assert ticket.priority == priority
        return ticket

    @classmethod
    def reply_at(cls, when: datetime, ticket: Ticket) -> None:
        with time_machine.travel(when, tick=False):
            desk.add_comment(cls.alice, ticket, "We are on it.")

    @classmethod
    def move_at(cls, when: datetime, ticket: Ticket, status: str) -> None:
        with time_machine.travel(when, tick=False):
            desk.transition(cls.alice, ticket, status)

    @classmethod
    def tell_the_story(cls) -> None:
        cls.a4 = cls.open_at(OCT, cls.acme, 1, "October outage")
        cls.reply_at(at(OCT, 0.25), cls.a4)
        cls.move_at(at(OCT, 8), cls.a4, "resolved")

        cls.a1 = cls.open_at(NOV, cls.acme, 1, "Checkout returns 502")
        cls.a2 = cls.open_at(NOV, cls.acme, 1, "Login loops forever")
        cls.a3 = cls.open_at(NOV, cls.acme, 3, "Report export is slow")
        cls.g1 = cls.open_at(NOV, cls.globex, 1, "Globex invoices missing")
        cls.reply_at(at(NOV, 0.5), cls.g1)
        cls.reply_at(at(NOV, 0.75), cls.a1)
        sweep.breach_due(at(NOV, 1))  # A2's first response was due at 10:00
        cls.reply_at(at(NOV, 4), cls.a3)  # 13:00: an hour over, the sweep has not run since
        cls.move_at(at(NOV, 4), cls.a1, "resolved")
        cls.move_at(at(NOV, days=1), cls.a3, "cancelled")
