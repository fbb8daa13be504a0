"""GET /api/v1/reports/sla/times: mean time to acknowledge and to resolve, in business hours."""

from sustain.sla import sweep
from tests.reports.world import NOV, ReportTestCase, at

URL = "/api/v1/reports/sla/times"


def row(org, priority, acknowledged, mtta, resolved, mttr):
    return {
        "organization": org,
        "priority": priority,
        "acknowledged": acknowledged,
        "mean_time_to_acknowledge_hours": mtta,
        "resolved": resolved,
        "mean_time_to_resolve_hours": mttr,
    }


class TimesApiTests(ReportTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.tell_the_story()

    def rows(self, user, **params):
        response = self.api(user).get(URL, **params)
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()["rows"]

    def test_means_per_customer_and_priority_count_only_stopped_clocks(self):
        # Acme P1: answered after 15 and 45 minutes, resolved after 8 and 4 hours; A2 is
        # neither. A3 was answered after 4 hours and never resolved.
        self.assertEqual(
            self.rows(self.alice),
            [
                row("acme", 1, 2, 0.5, 2, 6.0),
                row("acme", 3, 1, 4.0, 0, None),
                row("globex", 1, 1, 0.5, 0, None),
            ],
        )

    def test_business_hours_leave_out_nights_weekends_and_waiting_on_the_customer(self):
        # Opened Friday 16:00, waiting on the customer Monday 09:00–11:00, resolved Monday
        # 12:00: one hour on Friday and one on Monday count.
        friday = at(NOV, 7, days=4)
        ticket = self.open_at(friday, self.globex, 2, "Weekend worry")
        self.reply_at(at(friday, 0.5), ticket)
        monday = at(friday, 65)
        self.move_at(monday, ticket, "pending")
        self.move_at(at(monday, 2), ticket, "open")
        self.move_at(at(monday, 3), ticket, "resolved")
        self.assertEqual(
            self.rows(self.alice, organization="globex", priority=2),
            [row("globex", 2, 1, 0.5, 1, 2.0)],
        )

    def test_a_customer_sees_only_their_own_organization(self):
        self.assertEqual(self.rows(self.dave), [row("globex", 1, 1, 0.5, 0, None)])
        self.assertEqual([r["organization"] for r in self.rows(self.carol)], ["acme", "acme"])

    def test_filters_by_period(self):
        self.assertEqual(
            self.rows(self.carol, until="2026-10-31"), [row("acme", 1, 1, 0.25, 1, 8.0)]
        )

    def test_bad_filters_answer_422(self):
        response = self.api(self.alice).get(URL, since="2026-13")
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "since")


class LateAnswerTests(ReportTestCase):
    def test_an_answer_after_the_breach_counts_its_whole_business_time(self):
        ticket = self.open_at(NOV, self.acme, 2, "Slow pages")
        sweep.breach_due(at(NOV, 2))  # P2: first response due after 2 hours
        self.reply_at(at(NOV, 3), ticket)
        rows = self.api(self.alice).get(URL).json()["rows"]
        self.assertEqual(rows[0]["mean_time_to_acknowledge_hours"], 3.0)
