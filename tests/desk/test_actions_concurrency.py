"""Ticket actions racing each other, with real threads on PostgreSQL and on SQLite: PATCHes of
different fields at once keep every change (and the timeline agrees with the ticket), and of
two workflow moves at once from the same status only the one still legal passes."""

from __future__ import annotations

from sustain.accounts import actions as accounts
from sustain.accounts.models import Organization, Role, Team, User
from sustain.core.errors import Conflict
from sustain.core.events import for_target
from sustain.desk import actions as desk
from sustain.desk.models import Status, Ticket
from tests.concurrency import RaceTestCase

ROUNDS = 5


class ConcurrentTicketTests(RaceTestCase):
    def setUp(self):
        super().setUp()
        provider = Organization.objects.create(name="Provider", slug="provider", is_provider=True)
        self.acme = Organization.objects.create(name="Acme", slug="acme")
        self.agent = User.objects.create_user(
            "agent@provider.test", None, name="Agent", organization=provider, role=Role.AGENT
        )
        self.team = Team.objects.create(name="Second line", slug="second-line")
        self.team.members.add(self.agent)
        self.token = accounts.create_token(None, self.agent)[1]

    def open(self, title: str = "Racing") -> Ticket:
        return desk.open_ticket(self.agent, title=title, organization=self.acme)

    def test_patches_of_different_fields_at_once_keep_every_change(self):
        tickets = [self.open(f"Round {r}") for r in range(ROUNDS)]
        bodies = [
            {"title": "New title"},
            {"description": "New description"},
            {"impact": 1},
            {"team": "second-line"},
        ]
        for ticket in tickets:
            url = f"/api/v1/tickets/{ticket.key}"
            answers = self.patch_at_once(url, bodies, self.token)
            self.assertEqual(answers, [200] * len(bodies))
            fresh = Ticket.objects.select_related("team").get(pk=ticket.pk)
            self.assertEqual(
                (fresh.title, fresh.description, fresh.impact, fresh.team),
                ("New title", "New description", 1, self.team),
                f"a change was lost on {ticket.key}",
            )
            # The timeline agrees with the ticket: the last recorded value of each field is its.
            last: dict = {}
            for event in for_target(fresh):
                last.update(event.after)
            for field, value in [
                ("title", "New title"),
                ("description", "New description"),
                ("impact", 1),
                ("team", "Second line"),
            ]:
                self.assertEqual(last[field], value, f"{field} on {ticket.key}")

    def test_two_moves_from_pending_at_once_only_one_passes(self):
        for _ in range(ROUNDS):
            ticket = desk.transition(self.agent, self.open(), Status.PENDING)
            # Both load the pending ticket first, as two requests would.
            copies = [Ticket.objects.get(pk=ticket.pk) for _ in range(2)]
            moves = [Status.RESOLVED, Status.CANCELLED]
            results = self.at_once(
                lambda i, c=copies, m=moves: desk.transition(self.agent, c[i], m[i]).status,
                threads=2,
            )
            passed = [r for r in results if isinstance(r, str)]
            refused = [r for r in results if isinstance(r, Conflict)]
            self.assertEqual((len(passed), len(refused)), (1, 1), results)
            fresh = Ticket.objects.get(pk=ticket.pk)
            self.assertEqual(fresh.status, passed[0])
            moved = for_target(fresh).filter(verb="status_changed", before__status="pending")
            self.assertEqual(moved.count(), 1)

    def test_an_assignment_and_a_priority_override_at_once_keep_both(self):
        for _ in range(ROUNDS):
            ticket = self.open()
            copies = [Ticket.objects.get(pk=ticket.pk) for _ in range(2)]
            results = self.at_once(
                lambda i, c=copies: (
                    desk.assign(self.agent, c[0], team=self.team, assignee=self.agent)
                    if i == 0
                    else desk.set_priority(self.agent, c[1], 1, "Board meeting")
                ),
                threads=2,
            )
            fresh = Ticket.objects.get(pk=ticket.pk)
            self.assertEqual(
                (fresh.assignee_id, fresh.status, fresh.priority, fresh.priority_reason),
                (self.agent.pk, Status.OPEN, 1, "Board meeting"),
                f"what each thread gave: {results!r}",
            )
