"""Opening a ticket: its checks read before the write transaction, the write is short, and the
API answers from what was written, exactly as a GET of the new ticket reads it."""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sustain.sla.models import Calendar, Metric, Policy, Target
from tests.base import SustainTestCase

URL = "/api/v1/tickets"


class OpenTicketWriteTests(SustainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        calendar = Calendar.objects.create(name="24x7", always=True)
        policy = Policy.objects.create(name="Standard", calendar=calendar)
        for priority in (1, 2, 3, 4):
            for metric in (Metric.FIRST_RESPONSE, Metric.RESOLUTION):
                Target.objects.create(policy=policy, priority=priority, metric=metric, minutes=240)

    def write_statements(self) -> list[str]:
        """The statements of open_ticket's own transaction (a savepoint inside the test's)."""
        with CaptureQueriesContext(connection) as queries:
            self.open_ticket(self.alice, organization=self.acme, requester=self.carol, tags=["x"])
        sql = [q["sql"] for q in queries.captured_queries]
        start = next(i for i, s in enumerate(sql) if s.startswith("SAVEPOINT"))
        name = sql[start].split()[1]
        end = next(i for i, s in enumerate(sql) if s == f"RELEASE SAVEPOINT {name}")
        return sql[start + 1 : end]

    def test_the_checks_read_before_the_write_transaction(self):
        inside = " ".join(self.write_statements())
        for table in ("accounts_user", "desk_priorityrule", "hooks_subscription"):
            self.assertNotIn(f'FROM "{table}"', inside)
        for table in ("notifications_preferences", "mail_messageref", "notifications_carboncopy"):
            self.assertNotIn(table, inside)  # the worker reads these, not the action

    def test_the_counter_is_taken_last_on_postgresql(self):
        statements = self.write_statements()
        at = {
            what: next(i for i, s in enumerate(statements) if re.search(pattern, s))
            for what, pattern in (
                ("counter", r"UPDATE core_counter"),
                ("ticket", r'INSERT INTO "desk_ticket" '),
                ("event", r'INSERT INTO "core_event"'),
                ("clocks", r'INSERT INTO "sla_clock"'),
            )
        }
        if connection.vendor == "postgresql":
            self.assertGreater(at["counter"], max(at["event"], at["clocks"]))
        self.assertLess(at["counter"], at["ticket"])

    def test_the_answer_is_what_a_get_reads(self):
        api = self.api(self.alice)
        created = api.post(
            URL,
            {
                "title": "Checkout returns 502",
                "description": "Since **10:02**",
                "organization": "acme",
                "requester": "carol@acme.test",
                "affected_ci": self.acme_prod.pk,
                "team": "service-desk",
                "assignee": "bob@northwind.test",
                "tags": ["Payments", "outage"],
                "watchers": ["cathy@acme.test"],
            },
        )
        self.assertEqual(created.status_code, 201, created.content)
        answer = created.json()
        answer.pop("similar")
        self.assertEqual(len(answer["sla"]), 2)
        self.assertEqual(answer, api.get(f"{URL}/{answer['key']}").json())
