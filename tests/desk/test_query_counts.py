"""Lists cost a fixed number of queries whatever the page size: no query per row (N+1)."""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sustain.desk import actions as desk
from sustain.desk.models import Status
from sustain.sla.models import Calendar, Metric, Policy, Target
from tests.base import SustainTestCase
from tests.desk.queue_data import KEY


class ListQueryCountTests(SustainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        calendar = Calendar.objects.create(name="24x7", always=True)
        policy = Policy.objects.create(name="Standard", calendar=calendar)
        for priority in (1, 2, 3, 4):
            for metric in (Metric.FIRST_RESPONSE, Metric.RESOLUTION):
                Target.objects.create(policy=policy, priority=priority, metric=metric, minutes=240)
        cls.major = desk.open_ticket(cls.alice, organization=cls.acme, title="Major")

    def add_tickets(self, count: int) -> None:
        """Tickets that show every relation a row shows: requester, team, assignee, item,
        parent, tags, SLA clocks."""
        for n in range(count):
            ticket = desk.open_ticket(
                self.alice,
                organization=self.acme,
                requester=self.carol if n % 2 else self.cathy,
                title=f"Row {n}",
                affected_ci=self.acme_prod,
                team=self.service_desk,
                assignee=self.bob if n % 2 else self.alice,
                tags=[f"tag{n % 4}", "common"],
                parent=self.major,
            )
            if n % 3 == 0:
                desk.transition(self.alice, ticket, Status.PENDING)

    def count_queries(self, fetch) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            rows = fetch()
        return len(queries), rows

    def test_the_api_ticket_list_costs_the_same_for_5_and_40_tickets(self):
        api = self.api(self.mia)

        def fetch():
            response = api.get("/api/v1/tickets", limit=100)
            self.assertEqual(response.status_code, 200)
            rows = response.json()["results"]
            self.assertTrue(all(r["sla"] and r["tags"] for r in rows if r["key"] != self.major.key))
            return len(rows)

        self.add_tickets(5)
        fetch()  # the token's first use of the minute records last_used_at
        small, rows = self.count_queries(fetch)
        self.assertEqual(rows, 6)
        self.add_tickets(35)
        large, rows = self.count_queries(fetch)
        self.assertEqual(rows, 41)
        self.assertEqual(large, small)

    def test_the_agent_queue_page_costs_the_same_for_5_and_40_tickets(self):
        client = Client()
        client.force_login(self.mia)

        def fetch():
            response = client.get("/desk/", {"queue": "open"})
            self.assertEqual(response.status_code, 200)
            return len(KEY.findall(response.content.decode()))

        self.add_tickets(5)
        small, rows = self.count_queries(fetch)
        self.assertEqual(rows, 6)
        self.add_tickets(35)
        large, rows = self.count_queries(fetch)
        self.assertEqual(rows, 41)
        self.assertEqual(large, small)

    def test_the_portal_list_costs_the_same_for_5_and_20_tickets(self):
        client = Client()
        client.force_login(self.carol)

        def fetch():
            response = client.get("/portal/", {"show": "all"})
            return len(KEY.findall(response.content.decode()))

        self.add_tickets(5)
        small, rows = self.count_queries(fetch)
        self.add_tickets(15)
        large, more_rows = self.count_queries(fetch)
        self.assertEqual((rows, more_rows), (6, 21))
        self.assertEqual(large, small)
