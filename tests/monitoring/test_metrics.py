"""GET /metrics: Prometheus' text format, numbers that match the database, counters summed
across processes, and only for a token holder or an allowed address."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from unittest import mock

from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from sustain.core.models import OutboxMessage
from sustain.desk.models import OPEN_STATUSES, Ticket
from sustain.monitoring import actions
from sustain.monitoring.models import Source
from sustain.sla.models import Clock
from tests.base import SustainTestCase
from tests.monitoring.payloads import alert, delivery

OUTSIDE = "203.0.113.9"
ROOT = Path(__file__).resolve().parents[2]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition, keyed by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


class MetricsTests(SustainTestCase):
    def setUp(self):
        self.client = Client()

    def scrape(self, **extra) -> dict:
        response = self.client.get("/metrics", **extra)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertTrue(response["Content-Type"].startswith("text/plain"))
        return samples(response.content.decode())

    def test_open_tickets_by_priority_match_the_database(self):
        self.open_ticket(title="Checkout down", impact=1, urgency=1)
        self.open_ticket(title="Slow page")
        self.open_ticket(title="Another slow page")
        found = self.scrape()
        for priority in (1, 2, 3, 4):
            expected = Ticket.objects.filter(status__in=OPEN_STATUSES, priority=priority).count()
            self.assertEqual(
                found[("sustain_open_tickets", (("priority", f"P{priority}"),))], expected
            )
        total = sum(v for (name, _), v in found.items() if name == "sustain_open_tickets")
        self.assertEqual(total, 3)
        self.assertEqual(
            found[("sustain_sla_breached_clocks", ())],
            Clock.objects.filter(state=Clock.State.BREACHED).count(),
        )

    def test_outbox_backlog_oldest_age_and_worker_lag(self):
        now = timezone.now()
        OutboxMessage.objects.all().delete()
        OutboxMessage.objects.create(
            kind="test",
            payload={},
            created_at=now - timedelta(minutes=10),
            next_attempt_at=now - timedelta(minutes=5),
        )
        OutboxMessage.objects.create(
            kind="test",
            payload={},
            created_at=now - timedelta(minutes=1),
            next_attempt_at=now + timedelta(hours=1),  # held: pending, not yet due
        )
        OutboxMessage.objects.create(kind="test", payload={}, state="sent", sent_at=now)
        found = self.scrape()
        late = (timezone.now() - now).total_seconds()  # a busy machine's scrape takes a while
        self.assertEqual(found[("sustain_outbox_pending", ())], 2)
        oldest = found[("sustain_outbox_oldest_pending_age_seconds", ())]
        self.assertTrue(600 - 1 <= oldest <= 600 + late + 1, oldest)
        lag = found[("sustain_worker_lag_seconds", ())]
        self.assertTrue(300 - 1 <= lag <= 300 + late + 1, lag)
        OutboxMessage.objects.filter(state="pending").update(state="sent")
        found = self.scrape()
        self.assertEqual(found[("sustain_outbox_pending", ())], 0)
        self.assertEqual(found[("sustain_worker_lag_seconds", ())], 0)

    def test_alerts_received_count_by_source_kind_and_requests_are_timed(self):
        key = ("sustain_alerts_received_total", (("source_kind", Source.Kind.ALERTMANAGER),))
        before = self.scrape().get(key, 0)
        _, raw = actions.create_machine_token(self.mia, self.acme, name="am")
        response = self.client.post(
            "/api/v1/hooks/alertmanager",
            delivery(alert(), alert(fingerprint="ffff000011112222")),
            content_type="application/json",
            headers={"Authorization": f"Bearer {raw}"},
        )
        self.assertEqual(response.status_code, 200, response.content)
        found = self.scrape()
        self.assertEqual(found[key] - before, 2)
        routes = {
            dict(labels).get("route")
            for (name, labels) in found
            if name == "sustain_request_duration_seconds_count"
        }
        self.assertIn("metrics", routes)
        self.assertFalse(any(route and "/" in route for route in routes), routes)

    def test_refused_from_outside_without_a_token(self):
        response = self.client.get("/metrics", REMOTE_ADDR=OUTSIDE)
        self.assertEqual(response.status_code, 403)
        self.assertNotIn(b"sustain_open_tickets", response.content)
        response = self.client.get(
            "/metrics", REMOTE_ADDR=OUTSIDE, headers={"Authorization": "Bearer sum_not-a-token"}
        )
        self.assertEqual(response.status_code, 403)

    @override_settings(METRICS_TOKEN="scrape-secret-1234")
    def test_allowed_from_outside_with_the_metrics_token_or_a_machine_token(self):
        self.scrape(REMOTE_ADDR=OUTSIDE, headers={"Authorization": "Bearer scrape-secret-1234"})
        token, raw = actions.create_machine_token(self.mia, self.acme, name="prometheus")
        self.scrape(REMOTE_ADDR=OUTSIDE, headers={"Authorization": f"Bearer {raw}"})
        actions.revoke_machine_token(self.mia, token)
        response = self.client.get(
            "/metrics", REMOTE_ADDR=OUTSIDE, headers={"Authorization": f"Bearer {raw}"}
        )
        self.assertEqual(response.status_code, 403)

    @override_settings(METRICS_ALLOW=["10.0.0.0/8"])
    def test_the_allowed_networks_are_a_setting(self):
        self.scrape(REMOTE_ADDR="10.1.2.3")
        self.assertEqual(self.client.get("/metrics").status_code, 403)  # 127.0.0.1 no longer

    def test_counters_of_two_processes_sum_in_multiprocess_mode(self):
        with tempfile.TemporaryDirectory() as directory:
            env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": directory}
            code = (
                "import django; django.setup(); "
                "from sustain.monitoring.metrics import HEARTBEAT_PINGS; "
                "HEARTBEAT_PINGS.inc({n})"
            )
            runs = [
                subprocess.Popen([sys.executable, "-c", code.format(n=n)], env=env, cwd=ROOT)
                for n in (3, 4)
            ]
            self.assertEqual([run.wait(timeout=120) for run in runs], [0, 0])
            self.assertEqual(len(list(Path(directory).glob("counter_*.db"))), 2)
            with mock.patch.dict(os.environ, {"PROMETHEUS_MULTIPROC_DIR": directory}):
                found = self.scrape()
        self.assertEqual(found[("sustain_heartbeat_pings_total", ())], 7)
        self.assertIn(("sustain_outbox_pending", ()), found)  # the gauges come along
