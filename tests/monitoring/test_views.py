"""The monitoring pages: alerts by view, one alert's history, sources and machine tokens,
maintenance windows; staff only, each agent the customers they serve."""

from __future__ import annotations

from datetime import UTC, datetime

from django.test import Client

from sustain.accounts import actions as accounts
from sustain.accounts.models import Role
from sustain.monitoring import actions
from sustain.monitoring.alerts import Signal
from sustain.monitoring.models import MachineToken, Window
from tests.base import PASSWORD, SustainTestCase


class MonitoringPagesTests(SustainTestCase):
    def setUp(self):
        self.source = actions.create_source(self.mia, self.acme, name="prometheus-eu")
        self.fired = actions.receive(
            self.source,
            Signal(
                fingerprint="disk",
                state="firing",
                name="DiskAlmostFull",
                starts_at=datetime(2026, 12, 7, 8, tzinfo=UTC),
                config_item=self.acme_prod,
                labels={"alertname": "DiskAlmostFull", "mount": "/var"},
                severity="warning",
            ),
        ).alert
        globex_source = actions.create_source(self.mia, self.globex, name="globex-am")
        actions.receive(
            globex_source,
            Signal(
                fingerprint="g",
                state="firing",
                name="GlobexSecretAlert",
                starts_at=datetime(2026, 12, 7, tzinfo=UTC),
            ),
        )

    def signed_in(self, user):
        client = Client()
        client.force_login(user)
        return client

    def test_an_agent_sees_firing_alerts_and_their_incident(self):
        page = self.signed_in(self.alice).get("/monitoring/")
        self.assertContains(page, "DiskAlmostFull")
        self.assertContains(page, self.fired.ticket.key)
        detail = self.signed_in(self.alice).get(f"/monitoring/alerts/{self.fired.pk}")
        self.assertContains(detail, "mount=/var")
        self.assertContains(detail, "Firing")
        ticket = self.signed_in(self.alice).get(f"/desk/t/{self.fired.ticket.key}")
        self.assertContains(ticket, "Opened by monitoring")

    def test_an_agent_serving_one_customer_sees_only_its_alerts(self):
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
        page = self.signed_in(sam).get("/monitoring/?view=recent")
        self.assertContains(page, "DiskAlmostFull")
        self.assertNotContains(page, "GlobexSecretAlert")

    def test_customers_are_kept_out(self):
        page = self.signed_in(self.carol).get("/monitoring/")
        self.assertIn(page.status_code, (302, 403))

    def test_a_manager_makes_a_machine_token_shown_once_and_revokes_it(self):
        mia = self.signed_in(self.mia)
        made = mia.post("/monitoring/tokens/new", {"organization": self.acme.pk, "name": "am-eu"})
        self.assertEqual(made.status_code, 200)
        token = MachineToken.objects.get(name="am-eu")
        self.assertContains(made, "sum_")
        self.assertNotContains(mia.get("/monitoring/sources"), made.context["raw"])
        mia.post(f"/monitoring/tokens/{token.pk}/revoke")
        token.refresh_from_db()
        self.assertIsNotNone(token.revoked_at)

    def test_a_customer_cannot_make_machine_tokens(self):
        answer = self.signed_in(self.carol).post(
            "/monitoring/tokens/new", {"organization": self.acme.pk, "name": "x"}
        )
        self.assertIn(answer.status_code, (302, 403))
        self.assertFalse(MachineToken.objects.exists())

    def test_planning_a_recurring_window_from_the_page(self):
        alice = self.signed_in(self.alice)
        answer = alice.post(
            "/monitoring/maintenance",
            {
                "organization": self.acme.pk,
                "name": "Sunday patching",
                "starts_at": "2026-12-13T02:00",
                "ends_at": "2026-12-13T04:00",
                "zone": "Europe/Paris",
                "rrule": "FREQ=WEEKLY;BYDAY=SU",
                "config_items": [self.acme_prod.pk],
            },
        )
        self.assertEqual(
            answer.status_code,
            302,
            getattr(answer, "context", None) and answer.context["form"].errors,
        )
        window = Window.objects.get()
        self.assertEqual(window.starts_at, datetime(2026, 12, 13, 1, tzinfo=UTC))
        page = alice.get("/monitoring/maintenance")
        self.assertContains(page, "Sunday patching")
        self.assertContains(page, "Sun 13 Dec")
        bad = alice.post(
            "/monitoring/maintenance",
            {
                "organization": self.acme.pk,
                "name": "x",
                "starts_at": "2026-12-13T02:00",
                "ends_at": "2026-12-13T04:00",
                "zone": "UTC",
                "rrule": "FREQ=NEVER",
                "config_items": [self.acme_prod.pk],
            },
        )
        self.assertEqual(bad.status_code, 422)
        self.assertContains(bad, "RRULE", status_code=422)
        self.assertContains(bad, "FREQ=NEVER", status_code=422)  # what was typed is kept
        self.assertEqual(Window.objects.count(), 1)
