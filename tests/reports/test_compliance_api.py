"""GET /api/v1/reports/sla/compliance: met, breached and in progress per month, customer,
priority and metric, counted in the database."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.reports.world import NOV, ReportTestCase, at

URL = "/api/v1/reports/sla/compliance"


def row(month, org, priority, metric, met, breached, in_progress, compliance):
    return {
        "month": month,
        "organization": org,
        "priority": priority,
        "metric": metric,
        "met": met,
        "breached": breached,
        "in_progress": in_progress,
        "compliance": compliance,
    }


ACME = [
    row("2026-10", "acme", 1, "first_response", 1, 0, 0, 1.0),
    row("2026-10", "acme", 1, "resolution", 1, 0, 0, 1.0),
    row("2026-11", "acme", 1, "first_response", 1, 1, 0, 0.5),
    row("2026-11", "acme", 1, "resolution", 1, 0, 1, 1.0),
    row("2026-11", "acme", 3, "first_response", 0, 1, 0, 0.0),
]
GLOBEX = [
    row("2026-11", "globex", 1, "first_response", 1, 0, 0, 1.0),
    row("2026-11", "globex", 1, "resolution", 0, 0, 1, None),
]


class ComplianceApiTests(ReportTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.tell_the_story()

    def rows(self, user, **params):
        response = self.api(user).get(URL, **params)
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()["rows"]

    def test_an_agent_sees_every_customer_by_month_priority_and_metric(self):
        # A3's late answer counts as breached although the sweep never marked it; its
        # resolution clock stopped when it was cancelled and counts nowhere.
        self.assertEqual(self.rows(self.alice), ACME + GLOBEX)

    def test_a_customer_sees_only_their_own_organization(self):
        self.assertEqual(self.rows(self.carol), ACME)
        self.assertEqual(self.rows(self.dave), GLOBEX)

    def test_filters_by_customer_priority_metric_and_period(self):
        self.assertEqual(self.rows(self.alice, organization="globex"), GLOBEX)
        self.assertEqual(self.rows(self.alice, priority=3), [ACME[4]])
        self.assertEqual(self.rows(self.alice, metric="resolution"), [ACME[1], ACME[3], GLOBEX[1]])
        self.assertEqual(self.rows(self.alice, until="2026-10"), ACME[:2])
        self.assertEqual(self.rows(self.carol, since="2026-11-01", until="2026-11-30"), ACME[2:])
        self.assertEqual(self.rows(self.alice, since="2026-11-02T09:00:01Z"), [])

    def test_months_begin_in_the_viewers_time_zone(self):
        # Saturday 31 October 20:00 UTC is Sunday 1 November 09:00 in Auckland.
        self.open_at(at(NOV, hours=-37), self.acme, 4, "Weekend question")
        self.assertEqual(
            [r["month"] for r in self.rows(self.mia, priority=4)], ["2026-10", "2026-10"]
        )
        self.mia.time_zone = "Pacific/Auckland"
        self.mia.save()
        self.assertEqual(
            [r["month"] for r in self.rows(self.mia, priority=4)], ["2026-11", "2026-11"]
        )

    def test_bad_filters_answer_422_naming_the_field(self):
        cases = {
            "priority": {"priority": 7},
            "metric": {"metric": "uptime"},
            "since": {"since": "last tuesday"},
            "until": {"since": "2026-11", "until": "2026-10"},
            "organization": {"organization": "initech"},
        }
        for field, params in cases.items():
            with self.subTest(field):
                response = self.api(self.alice).get(URL, **params)
                self.assertEqual(response.status_code, 422, response.content)
                body = response.json()
                self.assertTrue(body["detail"])
                self.assertEqual([e["field"] for e in body["errors"]], [field])

    def test_another_customer_cannot_be_named_and_cannot_be_told_apart_from_none(self):
        foreign = self.api(self.carol).get(URL, organization="globex")
        unknown = self.api(self.carol).get(URL, organization="initech")
        self.assertEqual((foreign.status_code, unknown.status_code), (422, 422))
        self.assertEqual(
            foreign.json()["detail"].replace("globex", "?"),
            unknown.json()["detail"].replace("initech", "?"),
        )
        self.assertNotIn("Globex", foreign.content.decode())

    def test_needs_authentication(self):
        self.assertEqual(self.client.get(URL).status_code, 401)


class ComplianceQueryCountTests(ReportTestCase):
    def count_queries(self, api) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = api.get(URL, organization="acme")
        self.assertEqual(response.status_code, 200)
        return len(queries)

    def test_the_query_count_does_not_grow_with_the_number_of_tickets(self):
        api = self.api(self.alice)
        self.open_at(NOV, self.acme, 1, "First")
        api.get(URL)  # the token's first use records itself once
        few = self.count_queries(api)
        for n in range(12):
            ticket = self.open_at(at(NOV, days=n % 4), self.acme, 1 + n % 4, f"Ticket {n}")
            if n % 2:
                self.reply_at(at(NOV, 0.25, days=n % 4), ticket)
        many = self.count_queries(api)
        self.assertEqual(many, few)
        self.assertLessEqual(many, 4)  # token, served organizations, customer check, report
        self.assertEqual(len(api.get(URL).json()["rows"]), 8)
