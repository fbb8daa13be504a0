"""The demo world shows every feature at once: a new user logs in and finds it in use.

Loaded once for the class (about 60 tickets of history), then looked at as an agent would:
SLA badges of every colour in the queue, clocks on tickets, the SLA report over months, an
on-call page waiting for an answer after an escalation fired, a webhook's failed deliveries
and their retries, held mail, the fix delivered and the customer told, environments behind; an alert from Acme's Alertmanager with its open incident, one that
cleared, a weekly maintenance window, a probe of the shop with its last hours of results, and
the shop's /metrics scraped for an hour.
"""

from __future__ import annotations

import re

from django.test import TestCase

from sustain.accounts.models import User
from sustain.bugs.models import Bug
from sustain.cmdb.models import ConfigItem
from sustain.core.models import Event
from sustain.demo.world import load_world
from sustain.desk.models import OPEN_STATUSES, Comment, Status, Ticket
from sustain.hooks.models import Delivery, Subscription
from sustain.mail.models import InboundMail
from sustain.monitoring.models import (
    Alert,
    Heartbeat,
    MachineToken,
    Ping,
    Probe,
    Sample,
    ScrapeJob,
    Series,
    Source,
    Window,
)
from sustain.releases.deployments import installbase
from sustain.releases.models import Deployment, Release
from sustain.sla.models import Clock, EscalationFiring, OnCallSchedule, Page, Policy

BY_MAIL = re.compile(r'<a class="via" href="([^"]+)"[^>]*>by e-mail</a>')


def live(title: str) -> Ticket:
    """The last hours' ticket of that title (older ones of the history may share it)."""
    return Ticket.objects.filter(organization__slug="acme", title=title).latest("id")


def by_mail_links(client, tickets) -> list[str]:
    links = []
    for ticket in tickets:
        page = client.get(f"/desk/t/{ticket.key}")
        assert page.status_code == 200, ticket.key
        links += [href.replace("&amp;", "&") for href in BY_MAIL.findall(page.content.decode())]
    return links


class DemoWorldTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        load_world(tickets=60)
        cls.alice = User.objects.get(email="alice@sustain.localhost")

    def setUp(self) -> None:
        self.client.force_login(self.alice)

    def test_the_queue_shows_breached_due_soon_and_fine_tickets(self):
        page = self.client.get("/desk/").content.decode()
        for colour in ("sla-red", "sla-amber", "sla-green"):
            self.assertIn(colour, page)
        states = set(Clock.objects.values_list("state", flat=True))
        self.assertEqual(states, {"running", "paused", "met", "breached"})
        self.assertEqual(Policy.objects.filter(active=True).count(), 2)

    def test_a_ticket_shows_its_clocks(self):
        ticket = live("Checkout page returns 502 after deploy")
        page = self.client.get(f"/desk/t/{ticket.key}").content.decode()
        self.assertIn("clock-breached", page)
        self.assertIn("clock-running", page)

    def test_the_sla_report_has_months_of_met_and_breached_clocks(self):
        months = {
            (c.ticket.created_at.year, c.ticket.created_at.month)
            for c in Clock.objects.filter(state="met").select_related("ticket")
        }
        self.assertGreaterEqual(len(months), 5)
        self.assertTrue(Clock.objects.filter(state="breached", met_at__isnull=False).exists())
        self.assertGreater(Ticket.objects.filter(status=Status.CLOSED).count(), 10)
        page = self.client.get("/reports/sla")
        self.assertEqual(page.status_code, 200)
        self.assertIn("<svg", page.content.decode())

    def test_an_escalation_paged_the_person_on_call_who_has_not_answered(self):
        schedule = OnCallSchedule.objects.get(slug="platform-on-call")
        self.assertEqual(schedule.participants.count(), 3)
        self.assertTrue(schedule.overrides.exists())
        page = Page.objects.get(acknowledged_at__isnull=True, escalated_at__isnull=True)
        self.assertEqual(page.ticket, live("Checkout page returns 502 after deploy"))
        verbs = set(
            Event.objects.filter(target_type="desk.ticket", target_id=page.ticket_id).values_list(
                "verb", flat=True
            )
        )
        self.assertTrue({"sla_breached", "escalated", "paged"} <= verbs)
        self.assertEqual(
            EscalationFiring.objects.filter(ticket=page.ticket).count(), 2
        )  # the managers told, then the page
        self.assertEqual(self.client.get("/sla/oncall").status_code, 200)

    def test_the_webhook_shows_failed_deliveries_and_retries(self):
        hook = Subscription.objects.get(name="Acme operations bridge")
        deliveries = Delivery.objects.filter(subscription=hook)
        self.assertGreaterEqual(deliveries.count(), 5)
        self.assertFalse(deliveries.filter(ok=True).exists())
        self.assertTrue(deliveries.filter(attempt__gt=1).exists())
        self.assertFalse(hook.active)  # disabled after the failures in a row, its owner told
        page = self.client.get(f"/webhooks/{hook.pk}").content.decode()
        self.assertIn("name not resolved", page)

    def test_mail_waits_for_review(self):
        held = InboundMail.objects.filter(status=InboundMail.Status.HELD)
        self.assertEqual(
            set(held.values_list("sender", flat=True)),
            {"frank@umbrella.example", "dave@globex.example"},
        )
        page = self.client.get("/mail/").content.decode()
        self.assertIn("frank@umbrella.example", page)

    def test_the_fix_was_released_deployed_and_the_customer_told(self):
        bug = Bug.objects.get(title="Invoice totals are one cent short")
        self.assertEqual(bug.status, "verified")
        patch = Release.objects.get(version__name="2.4.2")
        self.assertEqual(patch.status, "released")
        production = ConfigItem.objects.get(name="acme-production")
        self.assertTrue(
            Deployment.objects.filter(
                release=patch, environment=production, status="succeeded"
            ).exists()
        )
        incident = Ticket.objects.get(title="Invoice totals are one cent short")
        self.assertEqual(incident.status, Status.RESOLVED)
        self.assertTrue(
            incident.comments.filter(is_public=True, body__contains="reached acme-production")
        )
        behind = installbase.behind_counts(
            ConfigItem.objects.filter(name__in=["globex-production", "globex-staging"])
        )
        self.assertTrue(behind and all(count > 0 for count in behind.values()))

    def test_every_comment_by_email_links_to_its_stored_mail(self):
        by_mail = Comment.objects.filter(channel="email")
        self.assertGreater(by_mail.count(), 5)
        self.assertFalse(by_mail.filter(inbound_mail__isnull=True).exists())
        tickets = Ticket.objects.filter(comments__channel="email").distinct()[:15]
        links = by_mail_links(self.client, tickets)
        self.assertGreaterEqual(len(links), 15)
        for link in links:
            self.assertEqual(self.client.get(link, follow=True).status_code, 200, link)

    def test_open_tickets_each_have_their_clocks(self):
        bare = Ticket.objects.filter(status__in=OPEN_STATUSES, clocks__isnull=True)
        self.assertFalse(bare.exists())

    def test_acme_alertmanager_opened_an_incident_and_one_cleared(self):
        source = Source.objects.get(organization__slug="acme", kind=Source.Kind.ALERTMANAGER)
        self.assertTrue(MachineToken.objects.filter(source=source, revoked_at=None).exists())
        firing = Alert.objects.get(source=source, name__startswith="HighErrorRate")
        self.assertEqual(firing.state, Alert.State.FIRING)
        self.assertEqual(firing.config_item.name, "acme-production")
        self.assertGreaterEqual(firing.received, 3)
        self.assertIn(firing.ticket.status, OPEN_STATUSES)
        self.assertEqual(
            (firing.ticket.channel, firing.ticket.affected_ci), ("monitoring", firing.config_item)
        )
        cleared = Alert.objects.get(source=source, name__startswith="DiskSpaceLow")
        self.assertEqual(cleared.state, Alert.State.RESOLVED)
        self.assertEqual(cleared.ticket.status, Status.RESOLVED)
        window = Window.objects.get(organization__slug="acme", name="Weekly staging refresh")
        self.assertIn("FREQ=WEEKLY", window.rrule)
        self.assertEqual([ci.name for ci in window.config_items.all()], ["acme-staging"])
        page = self.client.get("/monitoring/").content.decode()
        self.assertIn("HighErrorRate", page)
        page = self.client.get("/monitoring/maintenance").content.decode()
        self.assertIn("Weekly staging refresh", page)
        page = self.client.get("/monitoring/maintenance/calendar").content.decode()
        self.assertIn("Weekly staging refresh", page)

    def test_the_nightly_backup_pings_its_heartbeat_and_was_late_once(self):
        beat = Heartbeat.objects.get(organization__slug="acme", name="Nightly database backup")
        self.assertEqual(beat.config_item.name, "acme-db")
        runs = Ping.objects.filter(heartbeat=beat, kind=Ping.Kind.SUCCESS)
        self.assertGreaterEqual(runs.exclude(duration=None).count(), 13)
        late = Alert.objects.get(source=beat.source)
        self.assertEqual(late.state, Alert.State.RESOLVED)
        self.assertEqual(late.ticket.status, Status.RESOLVED)
        self.assertEqual(
            list(late.history.order_by("at").values_list("what", flat=True)),
            ["firing", "resolved"],
        )
        page = self.client.get("/monitoring/heartbeats").content.decode()
        self.assertIn("Nightly database backup", page)
        self.assertIn('<svg class="spark"', page)
        self.assertIn("98.", page)  # about 2 h 20 min down of 7 days
        item = self.client.get(f"/monitoring/items/{beat.config_item_id}").content.decode()
        self.assertIn("Heartbeat Nightly database backup is down", item)
        carol = User.objects.filter(organization__slug="acme", role="customer").first()
        self.client.force_login(carol)
        status = self.client.get("/portal/status/").content.decode()
        self.assertIn("acme-db", status)
        self.assertIn("Weekly staging refresh", status)

    def test_acme_shop_probe_shows_six_hours_of_results_and_runs_nothing(self):
        probe = Probe.objects.get(organization__slug="acme", name="Acme shop health")
        self.assertEqual(probe.state, Probe.State.PAUSED)  # the demo stays off the network
        self.assertIsNone(probe.next_run_at)
        self.assertEqual(probe.results.count(), 360)
        self.assertEqual(probe.results.filter(ok=False).count(), 2)
        self.assertFalse(Alert.objects.filter(source=probe.source).exists())  # lone failures
        page = self.client.get(f"/monitoring/probes/{probe.pk}").content.decode()
        self.assertIn("timed out", page)
        self.assertIn("Acme shop health", self.client.get("/monitoring/probes").content.decode())

    def test_configurations_have_history_masked_secrets_and_drift(self):
        from sustain.cmdb.models import ConfigDocument, Drift

        nginx = ConfigDocument.objects.get(item__name="acme-app-01", name="nginx.conf")
        self.assertEqual(nginx.versions.count(), 3)
        drift = Drift.objects.get(document=nginx, cleared_at=None)
        self.assertIn("differs from version 3", drift.detail)
        self.assertIsNotNone(drift.ticket)
        globex = ConfigDocument.objects.get(item__name="globex-app-01")
        self.assertFalse(globex.drifts.exists())
        version = Drift.objects.get(item__name="initech-production", kind="version")
        self.assertIn("1.1.1 is installed", version.detail)
        page = self.client.get("/cmdb/configs?drift=1").content.decode()
        self.assertIn("nginx.conf", page)
        self.assertIn("Installed versions no deployment explains", page)
        settings = ConfigDocument.objects.get(item__name="acme-app-01", name="ledger/settings.yaml")
        shown = self.client.get(f"/cmdb/configs/{settings.pk}").content.decode()
        self.assertNotIn("demo-only-not-a-secret", shown)  # alice is an agent, not an admin
        diff = self.client.get(f"/cmdb/configs/{nginx.pk}/diff?new=observed").content.decode()
        self.assertIn("proxy_read_timeout 30s;", diff)

    def test_acme_prometheus_rule_is_shown_paused_and_asks_nothing(self):
        from sustain.monitoring.models import ThresholdRule

        rule = ThresholdRule.objects.get(name="Shop 5xx ratio (Prometheus)")
        self.assertTrue(rule.paused)  # the demo stays off the network
        self.assertIsNone(rule.next_eval_at)
        self.assertEqual(rule.prometheus.name, "Acme Prometheus")
        page = self.client.get(f"/monitoring/rules/{rule.pk}").content.decode()
        self.assertIn("http_requests_total", page)
        self.assertIn("clears at or below 0.03", page)
        listed = self.client.get("/monitoring/prometheus").content.decode()
        self.assertIn("Acme Prometheus", listed)

    def test_acme_shop_metrics_were_scraped_for_an_hour_and_nothing_runs(self):
        job = ScrapeJob.objects.get(organization__slug="acme", name="acme-shop")
        self.assertTrue(job.paused)  # the demo stays off the network
        self.assertIsNone(job.next_run_at)
        self.assertEqual((job.status, job.last_error), (ScrapeJob.Status.OK, ""))
        self.assertFalse(Alert.objects.filter(source=job.source).exists())
        checkout = Series.objects.get(name="shop_checkout_seconds", labels__job="acme-shop")
        self.assertEqual(
            (checkout.kind, checkout.config_item.name), ("histogram", "acme-production")
        )
        up = Series.objects.get(name="up", labels__job="acme-shop")
        self.assertEqual(Sample.objects.filter(series=up, value=1).count(), 60)
        page = self.client.get(f"/monitoring/scrape-jobs/{job.pk}").content.decode()
        self.assertIn("shop_orders_total", page)
        self.assertIn("acme-shop", self.client.get("/monitoring/scrape-jobs").content.decode())

    def test_the_application_metrics_chart_a_rule_that_fired_and_a_deployment(self):
        from sustain.monitoring import charts, rollups
        from sustain.monitoring.models import DashboardPin, HourHistogram, MinuteRollup, Series

        checkout = Series.objects.get(
            name="http_server_duration_seconds", labels__endpoint="/api/checkout"
        )
        self.assertTrue(HourHistogram.objects.filter(series=checkout).exists())
        self.assertTrue(MinuteRollup.objects.exists())
        alert = Alert.objects.get(source__kind=Source.Kind.RULE)
        self.assertEqual(alert.state, Alert.State.RESOLVED)
        self.assertIsNotNone(alert.ticket)
        now = rollups.now_ms()
        fig, _lines = charts.series_chart(checkout, self.alice, now - 86_400_000, now)
        kinds = [s["type"] for s in fig["layout"]["shapes"]]
        self.assertIn("rect", kinds)  # the firing period
        (marks,) = [t for t in fig["data"] if t["name"] == "deployments"]
        self.assertIn("Ledger 2.4.2 → acme-production", marks["hovertext"][0])
        self.assertEqual(DashboardPin.objects.filter(organization__slug="acme").count(), 4)
        page = self.client.get("/monitoring/dashboard?organization=acme")
        self.assertContains(page, "Slowest endpoints by p95")
