"""Priority comes from impact × urgency; an agent may override it, with a reason that is kept."""

from sustain.core.errors import Forbidden, Invalid
from sustain.core.models import Event
from sustain.desk import actions as desk
from sustain.desk.models import Priority
from tests.base import SustainTestCase


class SetPriorityTests(SustainTestCase):
    def setUp(self):
        self.ticket = self.open_ticket(self.carol, impact=3, urgency=3)  # matrix: P4

    def test_an_override_needs_a_reason(self):
        with self.assertRaises(Invalid) as refused:
            desk.set_priority(self.alice, self.ticket, 1, "  ")
        self.assertIn("needs a reason", refused.exception.message)
        self.ticket.refresh_from_db()
        self.assertEqual(self.ticket.priority, Priority.P4)

    def test_an_override_and_its_reason_are_kept(self):
        desk.set_priority(self.alice, self.ticket, 1, "Their payroll run is tonight")
        self.ticket.refresh_from_db()
        self.assertEqual(self.ticket.priority, Priority.P1)
        self.assertEqual(self.ticket.priority_reason, "Their payroll run is tonight")
        event = Event.objects.get(target_id=self.ticket.pk, verb="priority_changed")
        self.assertEqual(
            (event.before, event.after),
            (
                {"priority": 4, "priority_reason": ""},
                {"priority": 1, "priority_reason": "Their payroll run is tonight"},
            ),
        )

    def test_an_overridden_priority_survives_a_change_of_impact(self):
        desk.set_priority(self.alice, self.ticket, 1, "VIP")
        desk.update_ticket(self.alice, self.ticket, impact=1)
        self.ticket.refresh_from_db()
        self.assertEqual((self.ticket.priority, self.ticket.priority_reason), (1, "VIP"))

    def test_without_an_override_impact_and_urgency_recompute_the_priority(self):
        desk.update_ticket(self.alice, self.ticket, impact=1, urgency=1)
        self.ticket.refresh_from_db()
        self.assertEqual(self.ticket.priority, Priority.P1)

    def test_returning_to_the_matrix_drops_the_reason(self):
        desk.set_priority(self.alice, self.ticket, 2, "VIP")
        desk.set_priority(self.alice, self.ticket, None)
        self.ticket.refresh_from_db()
        self.assertEqual((self.ticket.priority, self.ticket.priority_reason), (4, ""))
        desk.set_priority(self.alice, self.ticket, 2, "VIP")
        desk.set_priority(self.alice, self.ticket, 4, "ignored: it is the matrix's own value")
        self.ticket.refresh_from_db()
        self.assertEqual((self.ticket.priority, self.ticket.priority_reason), (4, ""))

    def test_an_unknown_priority_is_refused(self):
        for bad in (0, 5, "high"):
            with self.subTest(priority=bad), self.assertRaises(Invalid) as refused:
                desk.set_priority(self.alice, self.ticket, bad, "why not")
            self.assertEqual(refused.exception.errors[0]["field"], "priority")

    def test_customers_cannot_change_the_priority(self):
        with self.assertRaises(Forbidden):
            desk.set_priority(self.carol, self.ticket, 1, "Please")

    def test_the_api_needs_the_reason_and_names_the_field_it_reads_it_from(self):
        api = self.api(self.alice)
        response = api.patch(f"/api/v1/tickets/{self.ticket.key}", {"priority": 2})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "priority_reason")
        response = api.patch(
            f"/api/v1/tickets/{self.ticket.key}",
            {"priority": 2, "priority_reason": "Month-end close"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            (response.json()["priority"], response.json()["priority_reason"]),
            (2, "Month-end close"),
        )

    def test_the_ticket_page_changes_the_priority_in_place(self):
        self.client.force_login(self.alice)
        response = self.client.post(
            f"/desk/t/{self.ticket.key}/priority",
            {"priority": 1, "reason": ""},
            headers={"HX-Request": "true"},
        )
        self.assertContains(response, "needs a reason", status_code=422)
        response = self.client.post(
            f"/desk/t/{self.ticket.key}/priority",
            {"priority": 1, "reason": "Outage"},
            headers={"HX-Request": "true"},
        )
        self.assertEqual(response.status_code, 200)
        self.ticket.refresh_from_db()
        self.assertEqual((self.ticket.priority, self.ticket.priority_reason), (1, "Outage"))
