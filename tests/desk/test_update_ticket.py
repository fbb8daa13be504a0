"""Editing a ticket's title, description, impact, urgency, affected item and tags."""

from sustain.cmdb import actions as cmdb
from sustain.core.errors import Forbidden, Invalid
from sustain.desk import actions as desk
from tests.base import SustainTestCase


class UpdateTicketTests(SustainTestCase):
    def setUp(self):
        self.ticket = self.open_ticket(self.carol, title="Exports fail")

    def test_title_is_trimmed_and_must_be_1_to_300_characters(self):
        desk.update_ticket(self.alice, self.ticket, title="  Exports fail on Mondays  ")
        self.ticket.refresh_from_db()
        self.assertEqual(self.ticket.title, "Exports fail on Mondays")
        for bad in ("", "   ", "x" * 301, None):
            with self.subTest(title=bad), self.assertRaises(Invalid) as refused:
                desk.update_ticket(self.alice, self.ticket, title=bad)
            self.assertEqual(refused.exception.errors[0]["field"], "title")
        self.ticket.refresh_from_db()
        self.assertEqual(self.ticket.title, "Exports fail on Mondays")

    def test_only_known_fields_may_change(self):
        with self.assertRaises(Invalid) as refused:
            desk.update_ticket(self.alice, self.ticket, status="closed")
        self.assertEqual(refused.exception.errors[0]["field"], "status")

    def test_the_affected_item_must_be_the_customers(self):
        with self.assertRaises(Invalid) as refused:
            desk.update_ticket(self.alice, self.ticket, affected_ci=self.globex_prod)
        self.assertEqual(refused.exception.errors[0]["field"], "affected_ci")
        db = cmdb.create_config_item(self.alice, organization=self.acme, name="db", kind="database")
        response = self.api(self.alice).patch(
            f"/api/v1/tickets/{self.ticket.key}", {"affected_ci": db.pk}
        )
        self.assertEqual(response.json()["affected_ci"], db.pk)

    def test_impact_and_urgency_must_be_levels(self):
        for bad in (0, 4, "x", None):
            with self.subTest(impact=bad), self.assertRaises(Invalid):
                desk.update_ticket(self.alice, self.ticket, impact=bad)

    def test_tags_are_lower_case_unique_and_short(self):
        desk.update_ticket(self.alice, self.ticket, tags=["VPN", "vpn ", "", "Network"])
        self.assertEqual([t.name for t in self.ticket.tags.all()], ["network", "vpn"])
        with self.assertRaises(Invalid) as refused:
            desk.update_ticket(self.alice, self.ticket, tags=["x" * 51])
        self.assertEqual(refused.exception.errors[0]["field"], "tags")

    def test_customers_cannot_edit(self):
        with self.assertRaises(Forbidden):
            desk.update_ticket(self.carol, self.ticket, title="Mine")
