"""A small, varied set of tickets that the queue page, the API list and the portal filter."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine

from sustain.accounts import actions as accounts
from sustain.desk import actions as desk
from sustain.desk.models import Status
from tests.base import SustainTestCase

KEY = re.compile(r'data-key="([A-Z]+-\d+)"')


def at(day: int) -> datetime:
    return datetime(2026, 1, day, 10, 0, tzinfo=UTC)


class QueueData(SustainTestCase):
    """Six tickets:

    - printer: Acme, P1 incident, Service Desk / Alice, open, tag "hardware", 5 Jan
    - access:  Acme, P3 service request, unassigned, new, 10 Jan
    - invoice: Acme (Cathy), P4 incident, Operations team, pending, 15 Jan
    - done:    Acme, P3 incident, Service Desk / Bob, resolved, 20 Jan
    - globex:  Globex, P2 incident, Service Desk / Bob, open, 25 Jan
    - cafe:    Globex, P3 incident, unassigned, new, 28 Jan
    """

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.ops = accounts.create_team(cls.root, name="Operations", members=[cls.bob])
        with time_machine.travel(at(5), tick=False):
            cls.printer = desk.open_ticket(
                cls.carol,
                title="Printer jams on every invoice",
                description="The office printer in Zürich stops after one page.",
                impact=1,
                urgency=1,
            )
            desk.assign(cls.alice, cls.printer, team=cls.service_desk, assignee=cls.alice)
            desk.update_ticket(cls.alice, cls.printer, tags=["hardware"])
        with time_machine.travel(at(10), tick=False):
            cls.access = desk.open_ticket(
                cls.carol, title="Access for the new accountant", kind="request"
            )
        with time_machine.travel(at(15), tick=False):
            cls.invoice = desk.open_ticket(
                cls.cathy, title="Invoice totals are rounded wrongly", impact=3, urgency=3
            )
            desk.assign(cls.alice, cls.invoice, team=cls.ops)
            desk.transition(cls.alice, cls.invoice, Status.PENDING)
        with time_machine.travel(at(20), tick=False):
            cls.done = desk.open_ticket(cls.carol, title="Password reset mail missing")
            desk.assign(cls.alice, cls.done, team=cls.service_desk, assignee=cls.bob)
            desk.transition(cls.bob, cls.done, Status.RESOLVED)
        with time_machine.travel(at(25), tick=False):
            cls.globex_ticket = desk.open_ticket(
                cls.dave, title="Nightly import fails", impact=1, urgency=2
            )
            desk.assign(cls.alice, cls.globex_ticket, team=cls.service_desk, assignee=cls.bob)
        with time_machine.travel(at(28), tick=False):
            cls.cafe = desk.open_ticket(
                cls.dave, title="Café menu shows wrong prices", description="Prix incorrects"
            )

    @staticmethod
    def keys(*tickets) -> list[str]:
        """Keys newest first, as lists are ordered by default."""
        return [t.key for t in sorted(tickets, key=lambda t: t.pk, reverse=True)]
