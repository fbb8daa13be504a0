"""An agent who serves only some customers is never paged with another customer's ticket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core import mail

from sustain.accounts import actions as accounts
from sustain.accounts.models import Role
from sustain.core import outbox
from sustain.sla import actions as sla
from sustain.sla import escalation
from sustain.sla.models import OnCallSchedule, Page
from tests.base import SustainTestCase

MONDAY = datetime(2026, 10, 19, 12, 0, tzinfo=UTC)  # the first participant's first week


class ScopedAgentsOnCall(SustainTestCase):
    def setUp(self):
        self.sam = accounts.create_user(
            self.root,
            email="sam@northwind.test",
            name="Sam Scoped",
            organization=self.provider,
            role=Role.AGENT,
            serves_all_organizations=False,
            served_organizations=[self.acme],
        )
        self.root_api = self.api(self.root)
        response = self.root_api.post(
            "/api/v1/oncall",
            {
                "team": "service-desk",
                "name": "Service Desk",
                "slug": "desk-oncall",
                "participants": [self.alice.email, self.bob.email],
                "rotation_start": "2026-10-19",
            },
        )
        self.assertEqual(response.status_code, 201, response.content)

    def assertRefused(self, response, field):
        self.assertEqual(response.status_code, 422, response.content)
        self.assertIn(field, [e["field"] for e in response.json()["errors"]], response.json())

    def test_a_scoped_agent_cannot_take_another_teams_pager(self):
        response = self.api(self.sam).post(
            "/api/v1/oncall/desk-oncall/overrides",
            {
                "user": self.sam.email,
                "start": MONDAY.isoformat(),
                "end": (MONDAY + timedelta(days=7)).isoformat(),
            },
        )
        self.assertRefused(response, "user")
        self.assertFalse(OnCallSchedule.objects.get().overrides.exists())

    def test_nor_be_put_on_its_rotation(self):
        response = self.root_api.patch(
            "/api/v1/oncall/desk-oncall", {"participants": [self.sam.email, self.bob.email]}
        )
        self.assertRefused(response, "participants")
        self.assertEqual(
            [p.user for p in OnCallSchedule.objects.get().participants.all()],
            [self.alice, self.bob],
        )

    def test_on_their_own_team_they_are_passed_over_for_tickets_they_cannot_see(self):
        squad = accounts.create_team(
            self.root, name="Acme squad", lead=self.bob, members=[self.sam, self.bob]
        )
        schedule = sla.create_schedule(
            self.root,
            team=squad,
            name="Acme squad",
            slug="squad",
            participants=[self.sam, self.bob],
            rotation_start=MONDAY.date(),
        )
        globex = self.open_ticket(self.dave, title="Globex is down")
        acme = self.open_ticket(self.carol, title="Acme is down")
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            hidden = escalation.page(schedule, globex, f"P1: {globex.key}", MONDAY)
            shown = escalation.page(schedule, acme, f"P1: {acme.key}", MONDAY)
        outbox.deliver_due()
        self.assertEqual((hidden.user, shown.user), (self.bob, self.sam))
        to_sam = [m for m in mail.outbox if self.sam.email in m.to]
        self.assertTrue(to_sam)
        self.assertFalse([m for m in to_sam if globex.key in m.subject + m.body])
        # An unanswered page passes on, but never to someone who may not see the ticket.
        self.assertEqual(escalation.escalate_pages(MONDAY + timedelta(hours=1)), 2)
        self.assertFalse(Page.objects.filter(user=self.sam, ticket=globex).exists())

    def test_old_pages_and_notifications_do_not_name_a_hidden_ticket(self):
        squad = accounts.create_team(self.root, name="Acme squad", members=[self.sam])
        schedule = sla.create_schedule(
            self.root,
            team=squad,
            name="Acme squad",
            slug="squad",
            participants=[self.sam],
            rotation_start=MONDAY.date(),
        )
        globex = self.open_ticket(self.dave, title="Globex is down")
        # A page written before paging checked visibility.
        Page.objects.create(
            schedule=schedule,
            ticket=globex,
            user=self.sam,
            reason="old",
            ack_due_at=MONDAY,
        )
        self.assertEqual(self.api(self.sam).get("/api/v1/oncall/pages").json(), [])
        self.client.force_login(self.sam)
        self.assertNotContains(self.client.get("/sla/oncall"), globex.key)
        # Nobody on the rota may see it: nobody is paged, nobody is notified.
        self.assertIsNone(escalation.page(schedule, globex, globex.key, MONDAY))
        globex.team = squad
        globex.save()
        self.assertEqual(escalation._people("on_call", globex, MONDAY), [])
