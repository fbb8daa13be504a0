"""Watching a ticket: customers follow their organization's tickets, agents add whom they like."""

from sustain.core.errors import Forbidden, Invalid
from sustain.desk import actions as desk
from sustain.desk.models import Ticket
from tests.base import SustainTestCase


class WatcherTests(SustainTestCase):
    def setUp(self):
        self.ticket = self.open_ticket(self.carol, title="Exports fail")
        self.url = f"/api/v1/tickets/{self.ticket.key}/watchers"

    def test_a_colleague_watches_and_stops_watching(self):
        api = self.api(self.cathy)
        response = api.post(self.url)
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json(), ["cathy@acme.test"])
        self.assertEqual(api.delete(f"{self.url}/cathy@acme.test").json(), [])

    def test_an_agent_adds_a_watcher_by_email(self):
        response = self.api(self.alice).post(self.url, {"user": "BOB@northwind.test"})
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json(), ["bob@northwind.test"])

    def test_customers_cannot_add_others(self):
        with self.assertRaises(Forbidden):
            desk.watch(self.carol, self.ticket, self.cathy)
        self.assertEqual(
            self.api(self.carol).post(self.url, {"user": "cathy@acme.test"}).status_code, 403
        )
        self.assertFalse(self.ticket.watchers.exists())

    def test_someone_who_cannot_see_the_ticket_cannot_watch_it(self):
        with self.assertRaises(Invalid) as refused:
            desk.watch(self.alice, self.ticket, self.dave)
        self.assertEqual(refused.exception.errors[0]["field"], "user")
        self.assertEqual(self.api(self.dave).post(self.url).status_code, 404)
        self.assertFalse(self.ticket.watchers.exists())

    def test_customers_see_only_watchers_they_may_see(self):
        desk.watch(self.alice, self.ticket, self.bob)
        desk.watch(self.cathy, self.ticket)
        self.assertEqual(
            self.api(self.alice).get(self.url).json(), ["bob@northwind.test", "cathy@acme.test"]
        )
        self.assertEqual(self.api(self.carol).get(self.url).json(), ["cathy@acme.test"])

    def test_watching_is_an_internal_event(self):
        desk.watch(self.cathy, self.ticket)
        customer = self.api(self.carol).get(f"/api/v1/tickets/{self.ticket.key}/events").json()
        agent = self.api(self.alice).get(f"/api/v1/tickets/{self.ticket.key}/events").json()
        self.assertNotIn("watched", [e["verb"] for e in customer["results"]])
        self.assertIn("watched", [e["verb"] for e in agent["results"]])


class WatcherFieldTests(SustainTestCase):
    """Found by the schemathesis run: each answered 500 (some only on PostgreSQL) before it
    was fixed."""

    def test_an_empty_watcher_names_the_field(self):
        response = self.api(self.alice).post(
            "/api/v1/tickets", {"title": "Printer", "organization": "acme", "watchers": [""]}
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "watchers")
        self.assertFalse(Ticket.objects.exists())
