"""The ticket page's in-place controls answer htmx with the refreshed panel."""

from django.test import Client

from sustain.desk.models import Status, TicketLink
from tests.base import SustainTestCase

HTMX = {"HX-Request": "true"}


class AgentControlsTests(SustainTestCase):
    def setUp(self):
        self.client = Client()
        self.client.force_login(self.alice)
        self.ticket = self.open_ticket(self.carol, title="Printer on fire")

    def post(self, action: str, data: dict):
        return self.client.post(f"/desk/t/{self.ticket.key}/{action}", data, headers=HTMX)

    def test_assign_to_me_puts_the_ticket_in_my_team_and_opens_it(self):
        response = self.post("assign", {"me": "on"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["HX-Trigger"], "timeline-changed")
        self.assertContains(response, "Service Desk / Alice Agent")
        self.ticket.refresh_from_db()
        self.assertEqual((self.ticket.assignee, self.ticket.team), (self.alice, self.service_desk))
        self.assertEqual(self.ticket.status, Status.OPEN)

    def test_an_illegal_status_change_is_shown_in_the_panel(self):
        response = self.post("status", {"status": "closed"})
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, "cannot go from new to closed", status_code=422)

    def test_tags_links_merge_parent_and_watching(self):
        self.assertContains(self.post("tags", {"tags": "Printer, urgent"}), "printer, urgent")
        other = self.open_ticket(self.carol, title="Printer still on fire")
        self.assertEqual(
            self.post("link", {"target": other.key.lower(), "kind": "related"}).status_code, 200
        )
        self.assertTrue(
            TicketLink.objects.filter(source=self.ticket, target=other, kind="related").exists()
        )
        major = self.open_ticket(self.alice, organization=self.acme, title="Site-wide outage")
        self.assertContains(self.post("parent", {"parent": major.key}), major.key)
        self.assertContains(self.post("watch", {"on": "on"}), "Stop watching")
        duplicate = self.open_ticket(self.carol, title="Fire!")
        response = self.client.post(
            f"/desk/t/{duplicate.key}/link",
            {"target": self.ticket.key, "kind": "duplicate"},
            headers=HTMX,
        )
        self.assertEqual(response.status_code, 200)
        duplicate.refresh_from_db()
        self.assertEqual(duplicate.status, Status.CLOSED)

    def test_linking_to_an_unknown_ticket_names_the_field(self):
        response = self.post("link", {"target": "INC-999999", "kind": "related"})
        self.assertContains(response, "No ticket INC-999999", status_code=422)

    def test_customers_cannot_use_the_agent_workspace(self):
        customer = Client()
        customer.force_login(self.carol)
        self.assertEqual(customer.get("/desk/").status_code, 403)
        self.assertEqual(
            customer.post(f"/desk/t/{self.ticket.key}/assign", {"me": "on"}).status_code, 403
        )
