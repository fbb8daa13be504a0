"""A real Prometheus as a threshold rule's data source: Debian's `/usr/bin/prometheus` scrapes
an application instrumented with `prometheus_client` (a gauge the test sets, served on a
free 127.0.0.1 port) every second; a rule asks Prometheus its PromQL through the outbound
guard (127.0.0.1 allowed on purpose, as an administrator would allow an internal server).

The gauge past the critical threshold for the for-duration opens one alert and its incident
(one per element of the vector: only the queue that rose); back past the recovery threshold it
resolves. A bad expression shows Prometheus' own parse error on the rule; a matrix is refused
with a clear error; a scalar is one state; with Prometheus stopped the rule records the error
and its state goes no-data after the rule's no-data time.

Cycles run at the real time (the query's `time`): the rule is made due again between them,
as the scheduler does after its interval. Each wait is bounded (a scrape every second).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import unittest
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.test import override_settings
from django.utils import timezone
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from sustain.desk.models import Status
from sustain.monitoring import prometheus_sources, rule_eval, rules
from sustain.monitoring.models import Alert, PrometheusState, ThresholdRule
from tests.base import SustainTestCase
from tests.integration import peers

CONFIG = """global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: app
    static_configs:
      - targets: ["127.0.0.1:{app}"]
"""
Level = PrometheusState.Level


@pytest.mark.peers
@unittest.skipIf(
    shutil.which(peers.PROMETHEUS) is None,
    "NOT RUN: prometheus not installed (apt-get install prometheus; CI installs it)",
)
@override_settings(OUTBOUND_ALLOW_NETWORKS=("127.0.0.1/32",))
class PrometheusRuleTests(SustainTestCase):
    def setUp(self):
        super().setUp()
        self.folder = Path(tempfile.mkdtemp(prefix="sustain-prom-rule-"))
        self.addCleanup(shutil.rmtree, self.folder, ignore_errors=True)
        registry = CollectorRegistry()
        self.depth = Gauge("queue_depth", "Jobs waiting", ["queue"], registry=registry)
        self.depth.labels(queue="mail").set(1)
        self.depth.labels(queue="billing").set(1)
        self.app_port = peers.free_port()
        server, _thread = start_http_server(self.app_port, addr="127.0.0.1", registry=registry)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.prometheus_port = peers.free_port()
        (self.folder / "prometheus.yml").write_text(CONFIG.replace("{app}", str(self.app_port)))
        self.prometheus = peers.Peer(
            "prometheus",
            [
                shutil.which(peers.PROMETHEUS) or peers.PROMETHEUS,
                f"--config.file={self.folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.prometheus_port}",
            ],
            self.folder,
        )
        self.addCleanup(self.prometheus.stop)
        self.base = f"http://127.0.0.1:{self.prometheus_port}"
        self.prometheus.wait_ready(f"{self.base}/-/ready")
        self.source = prometheus_sources.create_source(
            self.mia, self.acme, name="acme prometheus", base_url=self.base, timeout_seconds=5
        )

    # --- helpers -------------------------------------------------------------------------
    def seen(self, queue: str, value: float) -> None:
        """Wait (bounded) until Prometheus has scraped `value` for `queue`."""
        url = f"{self.base}/api/v1/query?query=" + quote(f'queue_depth{{queue="{queue}"}}')

        def scraped() -> bool:
            result = peers.get_json(url)["data"]["result"]
            return bool(result) and float(result[0]["value"][1]) == value

        peers.wait_for(f"Prometheus to scrape queue_depth{{queue={queue}}} = {value}", scraped, 30)

    def cycle(self, rule: ThresholdRule, later: timedelta = timedelta(0)) -> ThresholdRule:
        """One cycle now (+ `later`), the rule made due first as after its interval."""
        now = timezone.now() + later
        ThresholdRule.objects.filter(pk=rule.pk).update(next_eval_at=now)
        self.assertEqual(rule_eval.run_cycle(now=now), 1)
        rule.refresh_from_db()
        return rule

    def states(self, rule: ThresholdRule) -> dict[str, PrometheusState]:
        found = PrometheusState.objects.filter(rule=rule)
        return {s.labels.get("queue", ""): s for s in found}

    def rule(self, **settings) -> ThresholdRule:
        return rules.create_rule(
            self.mia,
            self.acme,
            **{
                "name": "queue backlog",
                "prometheus": self.source,
                "expression": 'queue_depth{job="app"}',
                "critical": 10,
                "critical_recovery": 5,
                "for_seconds": 2,
                **settings,
            },
        )

    # --- the tests -----------------------------------------------------------------------
    def test_a_breach_for_the_duration_opens_one_incident_and_recovery_resolves_it(self):
        self.assertEqual(prometheus_sources.test_connection(self.mia, self.source).error, "")
        self.seen("mail", 1)
        self.seen("billing", 1)
        rule = self.cycle(self.rule())
        self.assertEqual(rule.last_error, "")
        states = self.states(rule)
        self.assertEqual(set(states), {"mail", "billing"})
        self.assertEqual(states["mail"].labels["job"], "app")
        self.assertEqual((states["mail"].level, states["mail"].value), (Level.OK, 1.0))

        self.depth.labels(queue="mail").set(50)
        self.seen("mail", 50)
        self.cycle(rule)  # breached, pending for 2 s
        self.assertIsNotNone(self.states(rule)["mail"].pending_since)
        self.assertFalse(Alert.objects.filter(source=rule.source).exists())
        time.sleep(2.1)
        self.cycle(rule)
        self.assertEqual(self.states(rule)["mail"].level, Level.CRITICAL)
        self.assertEqual(self.states(rule)["billing"].level, Level.OK)
        alert = Alert.objects.get(source=rule.source)
        self.assertEqual((alert.state, alert.severity), (Alert.State.FIRING, "critical"))
        self.assertEqual(alert.fingerprint, self.states(rule)["mail"].key)
        self.assertEqual(alert.labels["queue"], "mail")
        self.assertEqual(alert.ticket.organization, self.acme)
        self.cycle(rule)
        self.assertEqual(Alert.objects.filter(source=rule.source).count(), 1)

        self.depth.labels(queue="mail").set(7)  # under 10, above the recovery threshold 5
        self.seen("mail", 7)
        self.cycle(rule)
        self.assertEqual(self.states(rule)["mail"].level, Level.CRITICAL)

        self.depth.labels(queue="mail").set(2)
        self.seen("mail", 2)
        self.cycle(rule)
        self.assertEqual(self.states(rule)["mail"].level, Level.OK)
        alert.refresh_from_db()
        self.assertEqual(alert.state, Alert.State.RESOLVED)
        self.assertEqual(alert.ticket.status, Status.RESOLVED)
        self.assertEqual(Alert.objects.filter(source=rule.source).count(), 1)

    def test_prometheus_errors_are_shown_on_the_rule(self):
        self.seen("mail", 1)
        rule = self.cycle(self.rule(expression="queue_depth{queue="))
        self.assertIn("bad_data", rule.last_error)
        self.assertIn("parse error", rule.last_error)  # Prometheus' own words

        rule = rules.update_rule(self.mia, rule, {"expression": "queue_depth[1m]"})
        rule = self.cycle(rule)
        self.assertIn("gives a matrix", rule.last_error)

        rule = rules.update_rule(self.mia, rule, {"expression": "scalar(sum(queue_depth))"})
        rule = self.cycle(rule)
        self.assertEqual(rule.last_error, "")
        (state,) = PrometheusState.objects.filter(rule=rule)
        self.assertEqual((state.labels, state.value), ({}, 2.0))

    def test_prometheus_down_records_the_error_and_goes_no_data(self):
        self.seen("mail", 1)
        rule = self.cycle(self.rule(no_data="alert", no_data_after_seconds=60))
        self.assertEqual(len(self.states(rule)), 2)
        self.prometheus.stop()

        rule = self.cycle(rule)
        self.assertIn("connection refused", rule.last_error)
        self.assertEqual({s.level for s in self.states(rule).values()}, {Level.OK})
        rule = self.cycle(rule, later=timedelta(seconds=61))  # silent past the no-data time
        self.assertIn("connection refused", rule.last_error)
        self.assertEqual({s.level for s in self.states(rule).values()}, {Level.NODATA})
        self.assertEqual(
            Alert.objects.filter(source=rule.source, state=Alert.State.FIRING).count(), 2
        )
        answer = prometheus_sources.test_connection(self.mia, self.source)
        self.assertIn("connection refused", answer.error)
        self.source.refresh_from_db()
        self.assertIn("connection refused", self.source.check_error)
