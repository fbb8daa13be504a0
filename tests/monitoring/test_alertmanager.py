"""POST /api/v1/hooks/alertmanager: each alert, by fingerprint, opens, updates or resolves
exactly one incident; machine tokens write only their own organization's alerts."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from sustain.desk.models import Channel, Status, Ticket
from sustain.monitoring import actions
from sustain.monitoring.models import Alert, AlertEvent, Source
from tests.base import SustainTestCase
from tests.monitoring.payloads import alert, delivery

URL = "/api/v1/hooks/alertmanager"


class AlertmanagerWebhookTests(SustainTestCase):
    def setUp(self):
        self.token, self.raw = actions.create_machine_token(self.mia, self.acme, name="am")
        self.client = Client()

    def send(self, payload, raw: str | None = None, **headers):
        return self.client.post(
            URL,
            json.dumps(payload),
            content_type="application/json",
            headers={"Authorization": f"Bearer {raw or self.raw}", **headers},
        )

    def incidents(self):
        return Ticket.objects.filter(channel=Channel.MONITORING)

    def test_a_firing_alert_opens_one_incident_with_its_labels_and_item(self):
        response = self.send(delivery(alert(config_item="acme-prod")))
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["opened"], 1)
        ticket = self.incidents().get()
        self.assertEqual(ticket.organization, self.acme)
        self.assertEqual(ticket.affected_ci, self.acme_prod)
        self.assertEqual((ticket.impact, ticket.urgency, ticket.priority), (1, 1, 1))
        self.assertIn("HighErrorRate on acme-prod: 5xx above 5 %", ticket.title)
        self.assertIn("job=checkout", ticket.description)
        self.assertIn("description: The checkout API fails.", ticket.description)
        found = Alert.objects.get()
        self.assertEqual(
            (found.ticket, found.state, found.fingerprint), (ticket, "firing", "a1b2c3d4e5f60718")
        )
        self.assertEqual(Source.objects.get().name, "sustain")

    def test_repeats_count_without_noise_and_the_resolution_resolves(self):
        self.send(delivery(alert()))
        ticket = self.incidents().get()
        events_before = ticket.comments.count()
        for _ in range(3):
            self.assertEqual(self.send(delivery(alert())).json()["repeat"], 1)
        found = Alert.objects.get()
        self.assertEqual(found.received, 4)
        self.assertEqual(ticket.comments.count(), events_before)
        resolved = self.send(delivery(alert(status="resolved", ends_at="2026-12-07T10:20:00Z")))
        self.assertEqual(resolved.json()["resolved"], 1)
        ticket.refresh_from_db()
        self.assertEqual(ticket.status, Status.RESOLVED)
        note = ticket.comments.get()
        self.assertFalse(note.is_public)
        self.assertIn("has cleared", note.body)
        self.assertEqual(
            list(found.history.order_by("id").values_list("what", flat=True)),
            ["firing", "resolved"],
        )

    def test_firing_again_soon_reopens_the_same_incident_later_opens_a_new_one(self):
        self.send(delivery(alert()))
        actions.update_source(self.mia, Source.objects.get(), {"flap_changes": 10})
        self.send(delivery(alert(status="resolved", ends_at="2026-12-07T10:20:00Z")))
        again = self.send(delivery(alert(starts_at="2026-12-07T10:30:00Z")))
        self.assertEqual(again.json()["reopened"], 1)
        self.assertEqual(self.incidents().count(), 1)
        self.assertEqual(self.incidents().get().status, Status.OPEN)
        self.send(delivery(alert(status="resolved", ends_at="2026-12-07T10:40:00Z")))
        first = self.incidents().get()
        Ticket.objects.filter(pk=first.pk).update(resolved_at=timezone.now() - timedelta(hours=3))
        later = self.send(delivery(alert(starts_at="2026-12-07T14:00:00Z")))
        self.assertEqual(later.json()["opened"], 1)
        self.assertEqual(self.incidents().count(), 2)
        self.assertEqual(Alert.objects.get().ticket.status, Status.NEW)

    def test_a_late_retry_of_the_firing_does_not_reopen(self):
        self.send(delivery(alert()))
        self.send(delivery(alert(status="resolved", ends_at="2026-12-07T10:20:00Z")))
        retried = self.send(delivery(alert()))  # the first notification, delivered again
        self.assertEqual(retried.json()["stale"], 1)
        self.assertEqual(self.incidents().get().status, Status.RESOLVED)

    def test_a_source_may_leave_the_resolution_to_an_agent(self):
        self.send(delivery(alert()))
        actions.update_source(self.mia, Source.objects.get(), {"resolve_incidents": False})
        answer = self.send(delivery(alert(status="resolved", ends_at="2026-12-07T10:20:00Z")))
        self.assertEqual(answer.json()["noted"], 1)
        ticket = self.incidents().get()
        self.assertEqual(ticket.status, Status.NEW)
        self.assertIn("an agent resolves", ticket.comments.get().body)

    def test_flapping_is_held_as_one_open_incident_until_stable(self):
        stamps = ["10:00", "10:02", "10:04", "10:06", "10:08", "10:10", "10:12"]
        for n, stamp in enumerate(stamps):
            status = "firing" if n % 2 == 0 else "resolved"
            self.send(
                delivery(
                    alert(
                        status=status,
                        starts_at=f"2026-12-07T{stamps[n - n % 2]}:00Z",
                        ends_at=f"2026-12-07T{stamp}:30Z"
                        if status == "resolved"
                        else "0001-01-01T00:00:00Z",
                    )
                )
            )
        found = Alert.objects.get()
        self.assertTrue(found.is_flapping)
        self.assertEqual(self.incidents().count(), 1)
        ticket = self.incidents().get()
        self.assertEqual(ticket.status, Status.OPEN)
        self.assertEqual(ticket.comments.filter(body__contains="is flapping").count(), 1)
        self.send(
            delivery(
                alert(
                    status="resolved",
                    starts_at="2026-12-07T10:12:00Z",
                    ends_at="2026-12-07T10:14:00Z",
                )
            )
        )
        self.assertEqual(actions.stable_sweep(), 0)  # not stable for long enough yet
        later = timezone.now() + timedelta(minutes=16)
        self.assertEqual(actions.stable_sweep(now=later), 1)
        found.refresh_from_db()
        ticket.refresh_from_db()
        self.assertFalse(found.is_flapping)
        self.assertEqual(ticket.status, Status.RESOLVED)
        self.assertEqual(found.history.filter(what=AlertEvent.What.STABLE).count(), 1)
        self.assertEqual(actions.stable_sweep(now=later), 0)  # claimed once

    def test_unknown_fields_are_ignored_and_bad_alerts_named(self):
        bad = delivery(alert(), alert(fingerprint="ff", starts_at="yesterday"))
        response = self.send(bad)
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual(response.json()["errors"][0]["field"], "alerts[1].startsAt")
        self.assertFalse(Alert.objects.exists())  # nothing half-written
        missing = delivery(alert())
        missing["alerts"][0]["status"] = "pending"
        self.assertEqual(self.send(missing).json()["errors"][0]["field"], "alerts[0].status")

    def test_bodies_are_bounded(self):
        huge = delivery(*[alert(fingerprint=f"f{n}") for n in range(1001)])
        self.assertEqual(self.send(huge).status_code, 413)
        self.assertEqual(
            self.client.post(
                URL,
                "{not json",
                content_type="application/json",
                headers={"Authorization": f"Bearer {self.raw}"},
            ).status_code,
            400,
        )

    def test_alerts_without_fingerprint_get_one_from_their_labels(self):
        self.send(delivery(alert(fingerprint=None, instance="a")))
        self.send(delivery(alert(fingerprint=None, instance="a")))
        self.send(delivery(alert(fingerprint=None, instance="b")))
        self.assertEqual(Alert.objects.count(), 2)
        self.assertEqual(self.incidents().count(), 2)

    def test_tokens_other_than_a_live_machine_token_are_refused(self):
        self.assertEqual(self.send(delivery(alert()), raw="sum_nope").status_code, 401)
        person = self.token_for(self.mia)
        self.assertEqual(self.send(delivery(alert()), raw=person).status_code, 401)
        actions.revoke_machine_token(self.mia, self.token)
        self.assertEqual(self.send(delivery(alert())).status_code, 401)
        self.assertFalse(Alert.objects.exists())

    def test_basic_auth_with_the_token_as_password(self):
        basic = base64.b64encode(f"alertmanager:{self.raw}".encode()).decode()
        response = self.client.post(
            URL,
            json.dumps(delivery(alert())),
            content_type="application/json",
            headers={"Authorization": f"Basic {basic}"},
        )
        self.assertEqual(response.status_code, 200, response.content)

    def test_a_token_never_writes_another_organizations_item(self):
        self.send(delivery(alert(config_item="globex-prod")))
        found = Alert.objects.get()
        self.assertIsNone(found.config_item)
        self.assertEqual(found.organization, self.acme)
        self.assertEqual(found.ticket.organization, self.acme)

    def test_severity_maps_through_the_admins_table(self):
        actions.set_severity(self.root, "warning", 3, 3)
        self.send(delivery(alert(severity="warning")))
        ticket = self.incidents().get()
        self.assertEqual((ticket.impact, ticket.urgency), (3, 3))
