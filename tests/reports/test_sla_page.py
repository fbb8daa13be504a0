"""/reports/sla: filters, the compliance table, a pygal chart inline, times and breaches."""

import re

import time_machine
from django.test import Client

from tests.reports.world import NOV, ReportTestCase, at

URL = "/reports/sla"


class SlaReportPageTests(ReportTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.tell_the_story()

    def page(self, user, headers=None, **params):
        client = Client()
        client.force_login(user)
        with time_machine.travel(at(NOV, days=1), tick=False):
            return client.get(URL, params, headers=headers or {})

    def test_agents_find_it_in_the_top_navigation(self):
        client = Client()
        client.force_login(self.alice)
        self.assertContains(client.get("/desk/"), f'href="{URL}"')

    def test_renders_a_stacked_bar_chart_per_target_as_inline_svg(self):
        response = self.page(self.alice)
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        charts = re.findall(r'<svg[^>]*class="pygal-chart"', html)
        self.assertEqual(len(charts), 2)  # first response and resolution
        self.assertNotIn("<script src", html.split("<main>")[1])  # nothing fetched from elsewhere
        self.assertNotIn("<?xml", html)
        # The default period is the last six months, each on the chart's axis.
        for month in ("Jun 2026", "Jul 2026", "Aug 2026", "Sep 2026", "Oct 2026", "Nov 2026"):
            self.assertIn(month, html)
        self.assertIn("met", html)
        self.assertIn("breached", html)
        self.assertIn("in progress", html)

    def test_shows_totals_table_times_and_breaches(self):
        html = self.page(self.alice).content.decode()
        # First response: 3 met (A1, A4, G1) against 2 breached (A2, A3).
        self.assertIn("<strong>60 %</strong> First Response", html)
        self.assertIn("<strong>100 %</strong> Resolution", html)
        self.assertInHTML(
            "<tr><td>2026-11</td><td>Acme</td><td>P1</td><td>First Response</td>"
            '<td class="num">1</td><td class="num">1</td><td class="num">0</td>'
            '<td class="num">50 %</td></tr>',
            html,
        )
        self.assertInHTML(
            '<tr><td>Acme</td><td>P1</td><td class="num">2</td><td class="num">0.5 h</td>'
            '<td class="num">2</td><td class="num">6.0 h</td></tr>',
            html,
        )
        self.assertIn(f'href="/desk/t/{self.a2.key}"', html)
        self.assertIn("23 h", html)  # A2 late by 23 hours on Tuesday 09:00

    def test_filters_narrow_every_part(self):
        html = self.page(self.alice, organization="globex", months="3").content.decode()
        self.assertIn("Globex", html)
        self.assertNotIn("Login loops forever", html)
        charts = html.split('class="charts"')[1]
        self.assertIn("Sep 2026", charts)  # the last three months: September to November
        self.assertNotIn("Aug 2026", charts)
        self.assertIn('<option value="globex" selected>', html)

    def test_a_customer_sees_only_their_own_organization(self):
        response = self.page(self.carol)
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn("Login loops forever", html)
        self.assertIn(f'href="/portal/t/{self.a2.key}"', html)
        self.assertNotIn("Globex", html)
        self.assertNotIn('name="organization"', html)
        self.assertNotIn("Acme", self.page(self.dave).content.decode())

    def test_bad_filters_say_what_is_wrong(self):
        response = self.page(self.alice, priority="9")
        self.assertContains(response, "priority must be 1, 2, 3 or 4.", status_code=422)

    def test_htmx_gets_the_report_alone_and_more_breaches_as_rows(self):
        report = self.page(self.alice, {"HX-Request": "true", "HX-Target": "report"})
        self.assertEqual(report.status_code, 200)
        self.assertNotIn("<html", report.content.decode())
        self.assertIn("pygal-chart", report.content.decode())
        rows = self.page(self.alice, {"HX-Request": "true", "HX-Target": "breaches-more"})
        self.assertNotIn("pygal-chart", rows.content.decode())
        self.assertIn(self.a2.key, rows.content.decode())

    def test_needs_a_login(self):
        response = Client().get(URL)
        self.assertEqual(response.status_code, 302)
