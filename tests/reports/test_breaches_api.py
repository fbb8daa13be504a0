"""GET /api/v1/reports/sla/breaches: breached clocks with how late, paged by cursor."""

import time_machine

from tests.reports.world import NOV, ReportTestCase, at

URL = "/api/v1/reports/sla/breaches"


class BreachesApiTests(ReportTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.tell_the_story()

    def get(self, user, **params):
        with time_machine.travel(at(NOV, days=1), tick=False):  # Tuesday 09:00
            return self.api(user).get(URL, **params)

    def test_lists_each_breach_with_its_due_time_and_how_late(self):
        response = self.get(self.alice)
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertIsNone(body["next"])
        self.assertEqual(
            [
                (r["ticket"], r["metric"], r["due_at"], r["met_at"], r["late_seconds"])
                for r in body["results"]
            ],
            [
                # answered at 13:00, an hour of business time over, before the sweep noticed
                (self.a3.key, "first_response", None, "2026-11-02T13:00:00Z", 3600),
                # due Monday 10:00 and still unanswered on Tuesday 09:00
                (self.a2.key, "first_response", "2026-11-02T10:00:00Z", None, 23 * 3600),
            ],
        )
        first = body["results"][0]
        self.assertEqual(
            (first["title"], first["organization"], first["priority"]),
            ("Report export is slow", "acme", 3),
        )
        self.assertTrue(first["url"].endswith(f"/desk/t/{self.a3.key}"))

    def test_pages_by_cursor(self):
        page = self.get(self.alice, limit=1).json()
        self.assertEqual([r["ticket"] for r in page["results"]], [self.a3.key])
        following = self.api(self.alice).client.get(page["next"], headers=self.api_headers())
        self.assertEqual(following.status_code, 200)
        self.assertEqual(
            ([r["ticket"] for r in following.json()["results"]], following.json()["next"]),
            ([self.a2.key], None),
        )

    def api_headers(self):
        return {"Authorization": f"Bearer {self.token_for(self.alice)}"}

    def test_customers_see_their_organizations_breaches_and_portal_links(self):
        carol = self.get(self.carol).json()["results"]
        self.assertEqual([r["ticket"] for r in carol], [self.a3.key, self.a2.key])
        self.assertTrue(carol[0]["url"].endswith(f"/portal/t/{self.a3.key}"))
        self.assertEqual(self.get(self.dave).json()["results"], [])

    def test_a_customer_who_sees_only_their_own_tickets_sees_only_their_breaches(self):
        self.acme.customers_see_all_tickets = False
        self.acme.save()
        self.assertEqual(len(self.get(self.carol).json()["results"]), 2)  # she asked for both
        self.assertEqual(self.get(self.cathy).json()["results"], [])

    def test_filters_and_bad_values(self):
        self.assertEqual(
            [r["ticket"] for r in self.get(self.alice, priority=1).json()["results"]],
            [self.a2.key],
        )
        self.assertEqual(self.get(self.alice, metric="resolution").json()["results"], [])
        self.assertEqual(self.get(self.alice, until="2026-10").json()["results"], [])
        response = self.get(self.alice, cursor="forged")
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "cursor")
        response = self.get(self.alice, limit=0)
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "limit")
