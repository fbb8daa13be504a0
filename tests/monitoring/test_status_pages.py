"""The pages that show monitoring's figures: heartbeats with uptime and their runs' sparkline,
a configuration item's uptime and alert history, the alert history on the incident, the
maintenance calendar, and the customer's status page (their own organization's only)."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sustain.accounts import actions as accounts
from sustain.accounts.models import Role
from sustain.monitoring import actions, heartbeats
from sustain.monitoring.alerts import Signal
from sustain.monitoring.models import Source
from sustain.monitoring.sparkline import sparkline
from tests.base import PASSWORD, SustainTestCase

H = timedelta(hours=1)


def call(kind="success", **fields):
    return heartbeats.Call(kind=kind, **fields)


class StatusPagesTests(SustainTestCase):
    def setUp(self):
        self.now = timezone.now()
        self.beat = actions.create_heartbeat(
            self.mia,
            self.acme,
            name="Nightly backup",
            config_item=self.acme_prod,
            period_seconds=86400,
            grace_seconds=3600,
        )
        Source.objects.filter(pk=self.beat.source_id).update(created_at=self.now - 10 * 24 * H)
        for days in range(5, 0, -1):  # five nights, each run a minute longer
            start = self.now - days * 24 * H
            heartbeats.ping(self.beat.uuid, call("start"), now=start)
            heartbeats.ping(self.beat.uuid, call(), now=start + timedelta(minutes=10 + days))
        # The last night's job failed: down for two hours, then a good run.
        heartbeats.ping(self.beat.uuid, call("fail", exit_status=2), now=self.now - 5 * H)
        heartbeats.ping(self.beat.uuid, call(), now=self.now - 3 * H)
        self.globex_source = actions.create_source(self.mia, self.globex, name="globex-am")
        actions.receive(
            self.globex_source,
            Signal(
                fingerprint="g",
                state="firing",
                name="GlobexSecretAlert",
                starts_at=self.now - H,
                config_item=self.globex_prod,
            ),
            now=self.now - H,
        )
        actions.create_window(
            self.alice,
            self.globex,
            name="Globex secret upgrade",
            starts_at=self.now + 24 * H,
            ends_at=self.now + 26 * H,
            config_items=[self.globex_prod],
        )
        actions.create_window(
            self.alice,
            self.acme,
            name="Acme weekly refresh",
            starts_at=self.now + 2 * H,
            ends_at=self.now + 3 * H,
            rrule="FREQ=WEEKLY",
            zone="Europe/Berlin",
            config_items=[self.acme_prod],
        )

    def signed_in(self, user):
        client = Client()
        client.force_login(user)
        return client

    def test_the_heartbeat_list_shows_uptime_and_the_runs_sparkline(self):
        page = self.signed_in(self.alice).get("/monitoring/heartbeats")
        self.assertContains(page, "Nightly backup")
        self.assertContains(page, '<svg class="spark"')
        self.assertContains(page, "Duration of the last 7 runs of Nightly backup")
        # Down two hours of the last 24: 91.67 %; of 7 days 98.81 %; of 10 days watched 99.17 %.
        for figure in ("91.67 %", "98.81 %", "99.17 %"):
            self.assertContains(page, figure)
        detail = self.signed_in(self.alice).get(f"/monitoring/heartbeats/{self.beat.pk}")
        self.assertContains(detail, "Last 7 runs")
        self.assertContains(detail, "91.67 %")

    def test_the_heartbeat_list_costs_the_same_queries_for_more_heartbeats(self):
        client = self.signed_in(self.alice)

        def cost():
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(client.get("/monitoring/heartbeats").status_code, 200)
            return len(queries)

        one = cost()
        for n in range(4):
            beat = actions.create_heartbeat(self.mia, self.globex, name=f"Job {n}")
            heartbeats.ping(beat.uuid, call("fail"), now=self.now - H)
            heartbeats.ping(beat.uuid, call(), now=self.now - H / 2)
        self.assertEqual(cost(), one)

    def test_the_item_page_shows_uptime_alert_history_and_maintenance(self):
        page = self.signed_in(self.alice).get(f"/monitoring/items/{self.acme_prod.pk}")
        self.assertContains(page, "Heartbeat Nightly backup is down")
        self.assertContains(page, "Firing")
        self.assertContains(page, "Resolved")
        self.assertContains(page, "91.67 %")
        self.assertContains(page, "Acme weekly refresh")
        self.assertNotContains(page, "Globex secret upgrade")
        self.assertContains(page, 'status-up">Up')

    def test_an_agent_serving_one_customer_cannot_open_anothers_item(self):
        sam = accounts.create_user(
            self.root,
            email="sam@northwind.test",
            name="Sam",
            organization=self.provider,
            role=Role.AGENT,
            password=PASSWORD,
            serves_all_organizations=False,
            served_organizations=[self.acme],
        )
        client = self.signed_in(sam)
        self.assertEqual(client.get(f"/monitoring/items/{self.globex_prod.pk}").status_code, 404)
        calendar = client.get("/monitoring/maintenance/calendar")
        self.assertNotContains(calendar, "Globex secret upgrade")
        self.assertEqual(self.signed_in(self.carol).get("/monitoring/items/1").status_code, 403)

    def test_the_incident_shows_the_alert_history(self):
        alert = self.beat.source.alerts.get()
        page = self.signed_in(self.alice).get(f"/desk/t/{alert.ticket.key}")
        self.assertContains(page, "Alert history (2 changes)")
        self.assertContains(page, "Firing")
        self.assertContains(page, "Resolved")

    def test_the_calendar_shows_each_occurrence_in_its_month(self):
        client = self.signed_in(self.alice)
        page = client.get("/monitoring/maintenance/calendar")
        self.assertContains(page, "Acme weekly refresh", count=None)
        self.assertContains(page, 'class="occurrence"')
        later = self.now + timedelta(days=40)
        page = client.get(f"/monitoring/maintenance/calendar?month={later:%Y-%m}")
        body = page.content.decode()
        # Weekly: four or five occurrences in the month's list, none of the one-off window.
        listed = body.split("This month's occurrences", 1)[1]
        self.assertGreaterEqual(listed.count("Acme weekly refresh"), 4)
        self.assertNotIn("Globex secret upgrade", listed)
        only = client.get("/monitoring/maintenance/calendar?organization=globex")
        self.assertNotContains(only, "Acme weekly refresh")

    def test_a_month_that_is_no_month_is_named(self):
        page = self.signed_in(self.alice).get("/monitoring/maintenance/calendar?month=2026-13")
        self.assertContains(page, "month must be a month as YYYY-MM", status_code=422)

    def test_a_customer_sees_their_own_services_status_and_maintenance_only(self):
        page = self.signed_in(self.carol).get("/portal/status/")
        self.assertContains(page, "acme-prod")
        self.assertContains(page, "91.67 %")
        self.assertContains(page, "Acme weekly refresh")
        self.assertNotContains(page, "globex")
        self.assertNotContains(page, "Globex")
        other = self.signed_in(self.dave).get("/portal/status/")
        self.assertContains(other, "globex-prod")
        self.assertContains(other, 'status-down">Down')
        self.assertContains(other, "Globex secret upgrade")
        self.assertNotContains(other, "acme")
        self.assertNotContains(other, "Acme")

    def test_a_customer_sees_maintenance_while_a_window_is_on(self):
        actions.create_window(
            self.alice,
            self.acme,
            name="Now",
            starts_at=self.now - H,
            ends_at=self.now + H,
            config_items=[self.acme_prod],
        )
        page = self.signed_in(self.carol).get("/portal/status/")
        self.assertContains(page, 'status-maintenance">In maintenance')

    def test_the_alerts_page_filters_by_customer_and_keeps_it_across_views(self):
        client = self.signed_in(self.alice)
        page = client.get("/monitoring/?view=recent&organization=globex")
        self.assertContains(page, "GlobexSecretAlert")
        self.assertNotContains(page, "Heartbeat Nightly backup is down")
        self.assertContains(page, 'href="?view=firing&amp;organization=globex"')
        self.assertContains(page, '<option value="acme" >Acme</option>', html=False)


def test_a_sparkline_breaks_at_gaps_and_escapes_its_title():
    svg = str(sparkline([1, 2, None, 3, None, 4, 5], title="<b>runs</b>"))
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 1
    assert "&lt;b&gt;runs&lt;/b&gt;" in svg and "<b>" not in svg
    assert "style=" not in svg and "<script" not in svg
    assert sparkline([None, None]) == ""
