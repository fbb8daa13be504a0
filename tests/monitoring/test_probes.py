"""Probes against real servers on 127.0.0.1 (allowed on purpose, as an administrator would
allow an internal network): a server the test stops and starts makes a probe fail after N and
recover after M with one incident; status, keyword and JSON-path checks; TCP ports open and
closed; a certificate about to expire; the guard refusing loopback when it is not allowed.
Every run is one scheduler step (`run_due`) at a `now` the test chooses: no sleeps."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import mkdtemp

from django.test import override_settings

from sustain.core import outbound
from sustain.core.errors import Conflict, Invalid
from sustain.desk.models import Status, Ticket
from sustain.monitoring import actions, probe_runs
from sustain.monitoring.models import Alert, Probe, ProbeResult
from tests.base import SustainTestCase
from tests.monitoring.servers import Site, certificate, server_context

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
LOCAL = ("127.0.0.0/8",)
State = Probe.State


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


@override_settings(OUTBOUND_ALLOW_NETWORKS=LOCAL)
class ProbeTestCase(SustainTestCase):
    def setUp(self):
        self.site = Site().start()
        self.addCleanup(self.site.stop)

    def probe(self, **settings) -> Probe:
        settings.setdefault("url", self.site.url())
        settings.setdefault("name", "acme health")
        return actions.create_probe(self.mia, self.acme, now=T0, **settings)

    def last(self, probe: Probe) -> ProbeResult:
        return ProbeResult.objects.filter(probe=probe).latest("at", "id")

    def run_at(self, seconds: int) -> int:
        return probe_runs.run_due(now=at(seconds))


class FailAndRecoverTests(ProbeTestCase):
    def test_a_server_that_stops_opens_one_incident_after_n_and_it_resolves_after_m(self):
        probe = self.probe(fail_after=2, recover_after=2, config_item=self.acme_prod)
        self.assertEqual(self.run_at(0), 1)
        probe.refresh_from_db()
        self.assertEqual(probe.state, State.UP)
        self.assertEqual(probe.last_status_code, 200)
        self.assertEqual(probe.next_run_at, at(60))

        self.site.stop()
        self.assertEqual(self.run_at(60), 1)
        probe.refresh_from_db()
        self.assertEqual((probe.state, probe.consecutive_failures), (State.UP, 1))
        self.assertEqual(self.last(probe).error, "connection refused")
        self.assertFalse(Alert.objects.exists())  # one failure is not an outage

        self.run_at(120)
        probe.refresh_from_db()
        self.assertEqual(probe.state, State.DOWN)
        alert = Alert.objects.get(source=probe.source)
        self.assertEqual((alert.state, alert.severity), (Alert.State.FIRING, "critical"))
        incident = alert.ticket
        self.assertEqual(incident.affected_ci, self.acme_prod)
        self.assertEqual(incident.organization, self.acme)
        self.assertIn("connection refused", incident.title)

        self.run_at(180)  # still down: the same incident, nothing new
        self.assertEqual(Ticket.objects.filter(alerts__source=probe.source).count(), 1)

        self.site.start()  # back on the same port
        self.run_at(240)
        probe.refresh_from_db()
        self.assertEqual((probe.state, probe.consecutive_successes), (State.DOWN, 1))
        self.run_at(300)
        probe.refresh_from_db()
        self.assertEqual(probe.state, State.UP)
        alert.refresh_from_db()
        self.assertEqual(alert.state, Alert.State.RESOLVED)
        incident.refresh_from_db()
        self.assertEqual(incident.status, Status.RESOLVED)
        self.assertEqual(Ticket.objects.count(), 1)
        self.assertEqual(
            list(probe.results.order_by("at").values_list("ok", flat=True)),
            [True, False, False, False, True, True],
        )

    def test_nothing_runs_before_it_is_due_and_a_late_run_keeps_the_cadence(self):
        probe = self.probe(interval_seconds=30, timeout_seconds=5)
        self.run_at(0)
        self.assertEqual(self.run_at(29), 0)
        self.assertEqual(self.run_at(31), 1)
        probe.refresh_from_db()
        self.assertEqual(probe.next_run_at, at(60))  # from when it was due, not when it ran
        self.assertEqual(self.last(probe).lag_ms, 1000)
        self.run_at(200)  # a worker that was away: the missed runs are not made up
        probe.refresh_from_db()
        self.assertEqual(probe.next_run_at, at(230))

    def test_a_paused_probe_never_runs_and_its_alert_is_resolved(self):
        probe = self.probe(fail_after=1)
        self.site.stop()
        self.run_at(0)
        self.assertEqual(Alert.objects.get().state, Alert.State.FIRING)
        actions.pause_probe(self.mia, probe, now=at(10))
        self.assertEqual(Alert.objects.get().state, Alert.State.RESOLVED)
        self.assertEqual(self.run_at(3600), 0)
        with self.assertRaises(Conflict):
            actions.run_now(self.mia, probe)
        actions.resume_probe(self.mia, probe, now=at(4000))
        self.assertEqual(self.run_at(4000), 1)
        probe.refresh_from_db()
        self.assertEqual(probe.state, State.DOWN)  # fail_after=1: straight down again

    def test_run_now_makes_it_due(self):
        probe = self.probe()
        self.run_at(0)
        self.assertEqual(self.run_at(10), 0)
        actions.run_now(self.mia, probe, now=at(10))
        self.assertEqual(self.run_at(10), 1)


class AnswerCheckTests(ProbeTestCase):
    def test_the_status_must_be_one_expected(self):
        probe = self.probe(expected_status="200,204")
        self.site.status = 503
        self.run_at(0)
        result = self.last(probe)
        self.assertFalse(result.ok)
        self.assertEqual(result.status_code, 503)
        self.assertEqual(result.error, "status 503, expected 200,204")
        actions.update_probe(self.mia, probe, {"expected_status": "500-599"}, now=at(1))
        self.run_at(1)
        self.assertTrue(self.last(probe).ok)

    def test_keyword_present_or_absent(self):
        self.site.body = b"<h1>Welcome</h1> status: all systems go"
        probe = self.probe(keyword="all systems go")
        self.run_at(0)
        self.assertTrue(self.last(probe).ok)
        actions.update_probe(self.mia, probe, {"keyword": "Maintenance"}, now=at(1))
        self.run_at(1)
        self.assertEqual(self.last(probe).error, "the answer does not contain 'Maintenance'")
        actions.update_probe(self.mia, probe, {"keyword_absent": True}, now=at(2))
        self.run_at(2)
        self.assertTrue(self.last(probe).ok)
        self.site.body = b"Maintenance until 10:00"
        actions.run_now(self.mia, probe, now=at(3))
        self.run_at(3)
        self.assertEqual(self.last(probe).error, "the answer contains 'Maintenance'")

    def test_json_path_finds_and_compares(self):
        self.site.content_type = "application/json"
        self.site.body = json.dumps(
            {"status": "ok", "checks": [{"name": "db", "ok": True}, {"name": "queue", "ok": False}]}
        ).encode()
        cases = [
            ("$.status", "ok", ""),
            ("$.status", "", ""),
            ("$.checks[0].ok", "true", ""),
            ('$.checks[?(@.name == "queue")].ok', "true", "is 'false', expected 'true'"),
            ("$.version", "", "$.version finds nothing in the answer"),
        ]
        probe = self.probe(json_path="$.status", json_expected="ok")
        for i, (path, expected, error) in enumerate(cases, start=1):
            with self.subTest(path=path):
                changes = {"json_path": path, "json_expected": expected}
                actions.update_probe(self.mia, probe, changes, now=at(i))
                self.run_at(i)
                result = self.last(probe)
                self.assertEqual(result.ok, not error, result.error)
                self.assertTrue(result.error.endswith(error) if error else not result.error)
        self.site.body = b"<html>not json</html>"
        actions.run_now(self.mia, probe, now=at(100))
        self.run_at(100)
        self.assertEqual(self.last(probe).error, "the answer is not JSON")

    def test_method_and_headers_are_sent(self):
        self.probe(method="HEAD", headers={"X-Probe-Token": "zz-secret"})
        self.run_at(0)
        sent = self.site.requests[-1]
        self.assertEqual(sent["method"], "HEAD")
        self.assertEqual(sent["headers"]["X-Probe-Token"], "zz-secret")
        self.assertEqual(sent["headers"]["User-Agent"], "Sustain-Probe/1")


class TcpTests(ProbeTestCase):
    def test_a_listening_port_is_up_and_a_closed_one_is_refused(self):
        probe = self.probe(kind="tcp", url="", host="127.0.0.1", port=self.site.port)
        self.run_at(0)
        result = self.last(probe)
        self.assertTrue(result.ok)
        self.assertIsNotNone(result.latency_ms)
        self.site.stop()
        self.run_at(60)
        self.assertEqual(self.last(probe).error, "connection refused")

    def test_a_tcp_probe_takes_a_host_and_port_and_nothing_of_http(self):
        for fields, field in (
            ({"host": "", "port": 5432}, "host"),
            ({"host": "db.example.test", "port": None}, "port"),
            ({"host": "db.example.test", "port": 70000}, "port"),
            ({"host": "db.example.test", "port": 5432, "url": "http://x.example.test/"}, "url"),
            ({"host": "db.example.test", "port": 5432, "keyword": "ok"}, "keyword"),
        ):
            with self.subTest(fields=fields), self.assertRaises(Invalid) as refused:
                actions.create_probe(
                    self.mia, self.acme, name="db", kind="tcp", **{"url": "", **fields}
                )
            self.assertEqual(refused.exception.errors[0]["field"], field)


class TlsTests(ProbeTestCase):
    def test_a_certificate_about_to_expire_raises_a_warning_until_renewed(self):
        folder = Path(mkdtemp(prefix="sustain-probe-tls-"))
        soon = certificate(folder, "shop.example", days=5)
        renewed = certificate(folder, "shop.example", days=90)
        bundle = folder / "trusted.pem"
        bundle.write_bytes(soon[0].read_bytes() + renewed[0].read_bytes())
        site = Site(tls=server_context(*soon)).start()
        self.addCleanup(site.stop)
        with (
            override_settings(PROBE_CA_FILE=str(bundle)),
            outbound.using_resolver(lambda host, port: ["127.0.0.1"]),
        ):
            probe = self.probe(url=site.url(host="shop.example"), tls_expiry_days=14)
            probe_runs.run_due()  # the real clock: the certificate's dates are real
            result = self.last(probe)
            self.assertTrue(result.ok, result.error)
            self.assertIsNotNone(result.cert_expires_at)
            warning = Alert.objects.get(source=probe.source, fingerprint="tls-expiry")
            self.assertEqual((warning.state, warning.severity), (Alert.State.FIRING, "warning"))
            self.assertIn("expires soon", warning.ticket.title)
            probe.refresh_from_db()
            self.assertEqual(probe.state, State.UP)  # the service itself answers

            site.stop()
            site.tls = server_context(*renewed)
            site.start()
            actions.run_now(self.mia, probe)
            self.assertEqual(probe_runs.run_due(), 1)
            self.assertTrue(self.last(probe).ok, self.last(probe).error)
            self.assertGreater(self.last(probe).cert_expires_at, result.cert_expires_at)
            warning.refresh_from_db()
            self.assertEqual(warning.state, Alert.State.RESOLVED)
            self.assertFalse(Alert.objects.filter(fingerprint="probe").exists())

    def test_an_expired_certificate_fails_the_probe_in_the_guards_words(self):
        folder = Path(mkdtemp(prefix="sustain-probe-tls-"))
        expired = certificate(folder, "shop.example", days=-1)
        site = Site(tls=server_context(*expired)).start()
        self.addCleanup(site.stop)
        with (
            override_settings(PROBE_CA_FILE=str(expired[0])),
            outbound.using_resolver(lambda host, port: ["127.0.0.1"]),
        ):
            probe = self.probe(url=site.url(host="shop.example"), fail_after=1)
            probe_runs.run_due()
        self.assertEqual(self.last(probe).error, "TLS handshake failed: certificate expired")
        self.assertEqual(Alert.objects.get(source=probe.source).fingerprint, "probe")

    def test_an_untrusted_certificate_fails_in_the_guards_words(self):
        folder = Path(mkdtemp(prefix="sustain-probe-tls-"))
        site = Site(tls=server_context(*certificate(folder, "shop.example", days=30))).start()
        self.addCleanup(site.stop)
        with outbound.using_resolver(lambda host, port: ["127.0.0.1"]):
            probe = self.probe(url=site.url(host="shop.example"))
            probe_runs.run_due()
        self.assertEqual(self.last(probe).error, "TLS handshake failed: self-signed certificate")


class GuardTests(ProbeTestCase):
    def test_loopback_is_refused_where_it_is_saved_unless_allowed(self):
        with override_settings(OUTBOUND_ALLOW_NETWORKS=()):
            for fields, field in (
                ({"url": self.site.url()}, "url"),
                ({"url": "http://localhost:8000/"}, "url"),
                ({"kind": "tcp", "url": "", "host": "127.0.0.1", "port": 22}, "host"),
                ({"url": "http://169.254.169.254/latest/meta-data/"}, "url"),
            ):
                with self.subTest(fields=fields), self.assertRaises(Invalid) as refused:
                    actions.create_probe(self.mia, self.acme, name="sneaky", **fields)
                self.assertEqual(refused.exception.errors[0]["field"], field)
                self.assertIn("may not reach this address", refused.exception.message)
        self.assertFalse(Probe.objects.exists())

    def test_a_run_is_judged_again_when_the_allowance_is_withdrawn(self):
        probe = self.probe(fail_after=1)
        with override_settings(OUTBOUND_ALLOW_NETWORKS=()):
            self.run_at(0)
        result = self.last(probe)
        self.assertFalse(result.ok)
        self.assertEqual(result.error, "address not allowed: loopback")
        self.assertEqual(self.site.requests, [])  # nothing was sent

    def test_settings_are_checked_with_the_field_named(self):
        for fields, field in (
            ({"interval_seconds": 29}, "interval_seconds"),
            ({"interval_seconds": 60, "timeout_seconds": 60}, "timeout_seconds"),
            ({"fail_after": 0}, "fail_after"),
            ({"expected_status": "200-99"}, "expected_status"),
            ({"expected_status": "abc"}, "expected_status"),
            ({"json_path": "$[?("}, "json_path"),
            ({"json_expected": "ok"}, "json_expected"),
            ({"method": "TRACE"}, "method"),
            ({"headers": {"Host": "other.example"}}, "headers"),
            ({"headers": {"X-A": "one\r\nX-B: two"}}, "headers"),
            ({"headers": {f"X-{i}": "v" for i in range(21)}}, "headers"),
            ({"url": "ftp://files.example.test/"}, "url"),
            ({"url": ""}, "url"),
            ({"host": "db.example.test"}, "host"),
            ({"name": " "}, "name"),
        ):
            with self.subTest(fields=fields), self.assertRaises(Invalid) as refused:
                self.probe(**fields)
            self.assertEqual(refused.exception.errors[0]["field"], field)
        self.assertFalse(Probe.objects.exists())


class RetentionTests(ProbeTestCase):
    @override_settings(PROBE_RESULT_DAYS=35)
    def test_old_results_are_purged(self):
        probe = self.probe()
        self.run_at(0)
        ProbeResult.objects.create(probe=probe, at=T0 - timedelta(days=36), ok=True)
        self.assertEqual(probe_runs.purge(now=T0), 1)
        self.assertEqual(probe.results.count(), 1)


class SchedulerLoopTests(ProbeTestCase):
    def test_the_loop_runs_a_due_probe_within_a_second(self):
        probe = actions.create_probe(self.mia, self.acme, name="loop", url=self.site.url())
        ran = probe_runs.Scheduler(concurrency=2).run(seconds=1.5)
        self.assertGreaterEqual(ran, 1)
        result = self.last(probe)
        self.assertTrue(result.ok)
        self.assertLess(result.lag_ms, 1000)
