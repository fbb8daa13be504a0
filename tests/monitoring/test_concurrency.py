"""Duplicate and concurrent deliveries of one alert (Alertmanager retries; an HA pair sends
every group twice) give one incident, decided by the alert's unique key; several probe workers
run each due probe once; on PostgreSQL and on SQLite, with real threads."""

from __future__ import annotations

import json

from django.db.models import Count
from django.test import Client, override_settings
from django.utils import timezone

from sustain.accounts.models import Organization, Role, User
from sustain.desk.models import Channel, Ticket
from sustain.monitoring import actions, heartbeats, probe_runs
from sustain.monitoring.models import Alert, Heartbeat, Ping, Probe, ProbeResult
from tests.concurrency import RaceTestCase
from tests.monitoring.payloads import alert, delivery
from tests.monitoring.servers import Site

THREADS = 8
PROBES = 40


class ConcurrentDeliveryTests(RaceTestCase):
    def setUp(self):
        super().setUp()
        provider = Organization.objects.create(name="Provider", slug="provider", is_provider=True)
        self.acme = Organization.objects.create(name="Acme", slug="acme")
        manager = User.objects.create_user(
            "mia@provider.test", None, name="Mia", organization=provider, role=Role.MANAGER
        )
        self.raw = actions.create_machine_token(manager, self.acme, name="am")[1]

    def deliver(self, payload) -> int:
        return (
            Client()
            .post(
                "/api/v1/hooks/alertmanager",
                json.dumps(payload),
                content_type="application/json",
                headers={"Authorization": f"Bearer {self.raw}"},
            )
            .status_code
        )

    def test_the_same_alert_delivered_at_once_opens_one_incident(self):
        for round_ in range(3):
            payload = delivery(alert(fingerprint=f"race-{round_}"))
            answers = self.at_once(
                lambda i, payload=payload: self.deliver(payload), threads=THREADS
            )
            self.assertEqual(answers, [200] * THREADS)
            found = Alert.objects.get(fingerprint=f"race-{round_}")
            self.assertEqual(found.received, THREADS)
        incidents = Ticket.objects.filter(channel=Channel.MONITORING)
        self.assertEqual(incidents.count(), 3)
        self.assertEqual(Alert.objects.filter(ticket__isnull=True).count(), 0)


@override_settings(OUTBOUND_ALLOW_NETWORKS=("127.0.0.0/8",))
class ConcurrentProbeWorkerTests(RaceTestCase):
    """Several workers stepping the probe scheduler at the same instant run each due probe
    once: the conditional UPDATE that takes the lease lets one of them have it."""

    def setUp(self):
        super().setUp()
        self.site = Site().start()
        self.addCleanup(self.site.stop)
        provider = Organization.objects.create(name="Provider", slug="provider", is_provider=True)
        acme = Organization.objects.create(name="Acme", slug="acme")
        manager = User.objects.create_user(
            "mia@provider.test", None, name="Mia", organization=provider, role=Role.MANAGER
        )
        now = timezone.now()
        for i in range(PROBES):
            actions.create_probe(manager, acme, name=f"site {i}", url=self.site.url(), now=now)

    def test_each_due_probe_runs_once_whatever_the_number_of_workers(self):
        counts = self.at_once(lambda i: probe_runs.run_due(), threads=THREADS)
        self.assertTrue(all(isinstance(c, int) for c in counts), counts)
        self.assertEqual(sum(counts), PROBES)
        per_probe = ProbeResult.objects.values("probe").annotate(n=Count("id"))
        self.assertEqual(sorted(row["n"] for row in per_probe), [1] * PROBES)
        self.assertEqual(len(self.site.requests), PROBES)
        self.assertFalse(Probe.objects.exclude(lease="").exists())


class ConcurrentPingTests(RaceTestCase):
    """Pings of one heartbeat at once: each is logged, and the alert ends as the heartbeat
    does (the unlocked pings' conditional UPDATE misses when another wrote first, and the
    ping is decided again on what that one left)."""

    def setUp(self):
        super().setUp()
        provider = Organization.objects.create(name="Provider", slug="provider", is_provider=True)
        acme = Organization.objects.create(name="Acme", slug="acme")
        manager = User.objects.create_user(
            "mia@provider.test", None, name="Mia", organization=provider, role=Role.MANAGER
        )
        self.beat = heartbeats.create_heartbeat(manager, acme, name="backup")

    def test_successes_and_failures_at_once_leave_the_alert_as_the_heartbeat(self):
        for round_ in range(3):
            answers = self.at_once(
                lambda i: Client().post(f"/ping/{self.beat.uuid}/{i % 2}").status_code,
                threads=THREADS,
            )
            self.assertEqual(answers, [200] * THREADS)
            self.assertEqual(
                Ping.objects.filter(heartbeat=self.beat).count(), (round_ + 1) * THREADS
            )
            beat = Heartbeat.objects.get(pk=self.beat.pk)
            alert = Alert.objects.filter(source=beat.source).first()
            firing = alert is not None and alert.state == Alert.State.FIRING
            self.assertEqual(firing, beat.state == Heartbeat.State.DOWN, (round_, beat.state))
            last = Ping.objects.filter(heartbeat=beat).order_by("-at", "-id").first()
            self.assertEqual(beat.last_ping_at, last.at)
