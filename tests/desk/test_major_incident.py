"""A major incident gathers the incidents it caused; resolving it resolves them."""

from datetime import UTC, datetime

import time_machine

from sustain.core.errors import Forbidden, Invalid
from sustain.core.models import Event
from sustain.desk import actions as desk
from sustain.desk.models import Status
from tests.base import SustainTestCase

NOON = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


class MajorIncidentTests(SustainTestCase):
    def setUp(self):
        self.major = self.open_ticket(self.alice, organization=self.acme, title="Payments down")
        self.children = [
            self.open_ticket(self.carol, title="Card declined"),
            self.open_ticket(self.cathy, title="Checkout spins"),
            self.open_ticket(self.cathy, title="Refund stuck"),
        ]
        for child in self.children:
            desk.set_parent(self.alice, child, self.major)

    def test_attaching_an_incident_is_on_its_timeline(self):
        event = Event.objects.get(
            target_type="desk.ticket", target_id=self.children[0].pk, verb="parent_changed"
        )
        self.assertEqual(
            (event.before, event.after), ({"parent": None}, {"parent": self.major.key})
        )
        self.assertEqual(set(self.major.children.all()), set(self.children))

    def test_resolving_the_major_incident_resolves_its_open_children(self):
        card, spins, refund = self.children
        desk.transition(self.alice, spins, Status.PENDING)
        desk.transition(self.alice, refund, Status.CANCELLED)
        with time_machine.travel(NOON, tick=False):
            desk.transition(self.alice, self.major, Status.RESOLVED)
        for child in (card, spins):
            child.refresh_from_db()
            self.assertEqual(child.status, Status.RESOLVED)
            self.assertEqual(child.resolved_at, NOON)
        refund.refresh_from_db()
        self.assertEqual(refund.status, Status.CANCELLED)
        self.assertIsNone(refund.resolved_at)

    def test_each_resolved_child_records_why(self):
        card, spins, refund = self.children
        desk.transition(self.alice, refund, Status.CANCELLED)
        desk.transition(self.bob, self.major, Status.RESOLVED)
        for child in (card, spins):
            verbs = list(
                Event.objects.filter(target_type="desk.ticket", target_id=child.pk)
                .order_by("id")
                .values_list("verb", "after", "actor")
            )
            self.assertEqual(verbs[-2], ("status_changed", {"status": "resolved"}, self.bob.pk))
            self.assertEqual(
                verbs[-1], ("resolved_with_parent", {"parent": self.major.key}, self.bob.pk)
            )
        self.assertFalse(
            Event.objects.filter(target_id=refund.pk, verb="resolved_with_parent").exists()
        )

    def test_detaching_an_incident_keeps_it_open_when_the_parent_resolves(self):
        desk.set_parent(self.alice, self.children[0], None)
        desk.transition(self.alice, self.major, Status.RESOLVED)
        self.children[0].refresh_from_db()
        self.assertEqual(self.children[0].status, Status.NEW)
        self.assertIsNone(self.children[0].parent)

    def test_a_ticket_cannot_be_its_own_parent(self):
        with self.assertRaises(Invalid) as refused:
            desk.set_parent(self.alice, self.major, self.major)
        self.assertEqual(refused.exception.errors[0]["field"], "parent")

    def test_major_incidents_do_not_nest(self):
        other = self.open_ticket(self.carol, title="Other")
        with self.assertRaises(Invalid) as refused:
            desk.set_parent(self.alice, other, self.children[0])
        self.assertIn(f"attached to {self.major.key}", refused.exception.message)
        wider = self.open_ticket(self.alice, organization=self.acme, title="Datacenter down")
        with self.assertRaises(Invalid) as refused:
            desk.set_parent(self.alice, self.major, wider)
        self.assertIn("has children", refused.exception.message)
        self.major.refresh_from_db()
        self.assertIsNone(self.major.parent)

    def test_customers_cannot_attach_tickets(self):
        mine = self.open_ticket(self.carol, title="Mine")
        with self.assertRaises(Forbidden):
            desk.set_parent(self.carol, mine, self.major)

    def test_the_api_attaches_with_patch_and_names_a_bad_parent(self):
        ticket = self.open_ticket(self.carol, title="Yet another")
        api = self.api(self.alice)
        response = api.patch(f"/api/v1/tickets/{ticket.key}", {"parent": self.major.key})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["parent"], self.major.key)
        response = api.patch(f"/api/v1/tickets/{ticket.key}", {"parent": "INC-999999"})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "parent")
        response = api.patch(f"/api/v1/tickets/{ticket.key}", {"parent": None})
        self.assertEqual(response.json()["parent"], None)
