"""Scrape jobs against real peers on 127.0.0.1 (allowed on purpose, as an administrator would
allow an internal network): an application instrumented with prometheus_client, served by its
own HTTP server, is scraped and what the API reads back equals what it exposes, bucket for
bucket; a closed port, an error status, a time-out, an answer too large or not an exposition
fail the scrape, raise the job's alert and the next good scrape resolves it. Every run is one
scheduler step (`run_due`) at a `now` the test chooses."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management import call_command
from django.test import override_settings
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from sustain.core.errors import Invalid
from sustain.monitoring import actions, scrape_runs
from sustain.monitoring.models import Alert, Sample, ScrapeJob, Series
from tests.base import SustainTestCase
from tests.monitoring.servers import Site

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
LOCAL = ("127.0.0.0/8",)
Status = ScrapeJob.Status


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


class Quantiles(Collector):
    """A summary with quantiles (prometheus_client's own Summary has none)."""

    def collect(self):
        rpc = Metric("rpc_seconds", "RPC latency", "summary")
        rpc.add_sample("rpc_seconds", {"quantile": "0.5", "method": "get"}, 0.012)
        rpc.add_sample("rpc_seconds", {"quantile": "0.99", "method": "get"}, 0.25)
        rpc.add_sample("rpc_seconds_sum", {"method": "get"}, 4.5)
        rpc.add_sample("rpc_seconds_count", {"method": "get"}, 120)
        yield rpc


class App:
    """The instrumented application: a gauge, a counter with labels, a histogram with its own
    buckets and a summary, served by prometheus_client.start_http_server."""

    def __init__(self):
        self.registry = CollectorRegistry()
        self.queue = Gauge("queue_depth", "Jobs waiting", registry=self.registry)
        self.requests = Counter(
            "http_requests", "Requests", ["method", "code"], registry=self.registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Latency",
            ["route"],
            buckets=(0.005, 0.05, 0.25, 1.0, 5.0),
            registry=self.registry,
        )
        self.registry.register(Quantiles())
        self.queue.set(17)
        self.requests.labels("GET", "200").inc(41)
        self.requests.labels("POST", "500").inc(2)
        for v in (0.001, 0.004, 0.03, 0.2, 0.2, 0.9, 3, 12):
            self.latency.labels("/pay").observe(v)
        self.latency.labels("/cart").observe(0.04)
        self.server, self.thread = start_http_server(0, addr="127.0.0.1", registry=self.registry)
        self.port = self.server.server_address[1]

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@override_settings(OUTBOUND_ALLOW_NETWORKS=LOCAL)
class ScrapeTestCase(SustainTestCase):
    def job(self, url: str, **settings) -> ScrapeJob:
        settings.setdefault("name", "shop")
        return actions.create_scrape_job(self.mia, self.acme, url=url, now=T0, **settings)

    def run_at(self, seconds: int) -> int:
        return scrape_runs.run_due(now=at(seconds))

    def read_back(self, job: ScrapeJob) -> dict[tuple, object]:
        """Every series of the job as the API gives it back: (name, labels) → its points."""
        api = self.api(self.alice)
        found: dict[tuple, object] = {}
        url = f"/api/v1/metrics/series?label=job:{job.name}&limit=200"
        while url:
            page = api.get(url).json()
            for s in page["results"]:
                points = api.get(f"/api/v1/metrics/series/{s['id']}/points").json()["points"]
                found[(s["name"], tuple(sorted(s["labels"].items())))] = (s["kind"], points)
            url = page["next"]
        return found


class RealApplicationTests(ScrapeTestCase):
    def setUp(self):
        self.app = App()
        self.addCleanup(self.app.stop)

    def test_what_the_api_reads_back_is_what_the_application_exposes(self):
        job = self.job(self.app.url(), labels={"env": "production"}, config_item=self.acme_prod)
        self.assertEqual(self.run_at(0), 1)
        job.refresh_from_db()
        self.assertEqual(job.status, Status.OK, job.last_error)
        self.assertEqual(job.next_run_at, at(60))
        target = {"job": "shop", "instance": f"127.0.0.1:{self.app.port}", "env": "production"}
        stored = self.read_back(job)
        t0 = T0.timestamp()

        exposed = self.app.registry.collect()
        expected = 0
        for family in exposed:
            if family.type == "histogram":
                continue
            for sample in family.samples:
                if sample.name.endswith("_created"):
                    continue
                key = (sample.name, tuple(sorted({**sample.labels, **target}.items())))
                self.assertIn(key, stored)
                kind, points = stored[key]
                self.assertEqual(points, [[t0, sample.value]], key)
                expected += 1
        self.assertEqual(
            stored[("http_requests_total", self.labels(target, method="GET", code="200"))][0],
            "counter",
        )
        self.assertEqual(stored[("queue_depth", self.labels(target))][0], "gauge")
        self.assertEqual(
            stored[("rpc_seconds", self.labels(target, method="get", quantile="0.99"))][0], "gauge"
        )

        # the histograms, bucket for bucket, from the exposition's own cumulative buckets
        text = self.app_text()
        (family,) = [f for f in text_string_to_metric_families(text) if f.type == "histogram"]
        for route in ("/pay", "/cart"):
            buckets = sorted(
                (float(s.labels["le"]), s.value)
                for s in family.samples
                if s.name.endswith("_bucket") and s.labels["route"] == route
            )
            total = next(
                s.value
                for s in family.samples
                if s.name.endswith("_count") and s.labels["route"] == route
            )
            added = next(
                s.value
                for s in family.samples
                if s.name.endswith("_sum") and s.labels["route"] == route
            )
            kind, points = stored[
                ("http_request_duration_seconds", self.labels(target, route=route))
            ]
            self.assertEqual(kind, "histogram")
            (point,) = points
            cumulative = 0
            for bound, count, (le, upto) in zip(
                point["bounds"] + [float("inf")], point["counts"], buckets, strict=True
            ):
                cumulative += count
                self.assertEqual((bound, cumulative), (le, upto))
            self.assertEqual((point["count"], point["sum"], point["time"]), (total, added, t0))
            expected += 1
        self.assertEqual(point["bounds"], [0.005, 0.05, 0.25, 1.0, 5.0])
        pay = stored[("http_request_duration_seconds", self.labels(target, route="/pay"))][1][0]
        self.assertEqual(pay["counts"], [2, 1, 2, 1, 1, 1])

        # the synthetic series, and the job's last run
        self.assertEqual(stored[("up", self.labels(target))][1], [[t0, 1.0]])
        samples = stored[("scrape_samples_scraped", self.labels(target))][1][0][1]
        self.assertEqual(samples, job.last_samples)
        self.assertGreater(job.last_samples, expected)
        self.assertEqual(job.last_series, len(stored) - 3)  # all but the synthetic ones
        self.assertTrue(Series.objects.filter(config_item=self.acme_prod, name="up").exists())
        self.assertFalse(Alert.objects.exists())

    def labels(self, target: dict, **more: str) -> tuple:
        return tuple(sorted({**more, **target}.items()))

    def app_text(self) -> str:
        from prometheus_client import generate_latest

        return generate_latest(self.app.registry).decode()

    def test_a_later_scrape_adds_points_to_the_same_series(self):
        job = self.job(self.app.url())
        self.run_at(0)
        self.app.queue.set(3)
        self.app.requests.labels("GET", "200").inc()
        self.run_at(60)
        stored = self.read_back(job)
        target = {"job": "shop", "instance": f"127.0.0.1:{self.app.port}"}
        self.assertEqual(
            stored[("queue_depth", self.labels(target))][1],
            [[at(0).timestamp(), 17.0], [at(60).timestamp(), 3.0]],
        )
        key = ("http_requests_total", self.labels(target, method="GET", code="200"))
        self.assertEqual([v for _, v in stored[key][1]], [41.0, 42.0])

    def test_a_closed_port_raises_the_alert_and_recovery_resolves_it(self):
        job = self.job(self.app.url(), config_item=self.acme_prod)
        self.run_at(0)
        self.app.stop()
        self.run_at(60)
        job.refresh_from_db()
        self.assertEqual((job.status, job.last_error), (Status.FAILED, "connection refused"))
        alert = Alert.objects.get(source=job.source)
        self.assertEqual((alert.state, alert.fingerprint), (Alert.State.FIRING, "scrape"))
        self.assertEqual(alert.ticket.affected_ci, self.acme_prod)
        self.assertIn("connection refused", alert.ticket.title + alert.annotations["summary"])
        self.run_at(120)  # still failing: the same alert and incident
        self.assertEqual(Alert.objects.filter(source=job.source).count(), 1)
        up = Series.objects.get(name="up", labels__job="shop")
        self.assertEqual(
            list(Sample.objects.filter(series=up).order_by("time").values_list("value", flat=True)),
            [1, 0, 0],
        )

        self.app = App()  # back (on another port): the job is changed to follow it
        job = actions.update_scrape_job(self.mia, job, {"url": self.app.url()}, now=at(150))
        self.run_at(150)
        job.refresh_from_db()
        self.assertEqual((job.status, job.last_error), (Status.OK, ""))
        alert.refresh_from_db()
        self.assertEqual(alert.state, Alert.State.RESOLVED)


class FailureTests(ScrapeTestCase):
    def setUp(self):
        self.site = Site().start()
        self.addCleanup(self.site.stop)
        self.site.content_type = "text/plain; version=0.0.4"

    def scrape(self, **settings) -> ScrapeJob:
        job = self.job(self.site.url("/metrics"), **settings)
        self.run_at(0)
        job.refresh_from_db()
        return job

    def test_an_error_status_fails_the_scrape(self):
        self.site.status, self.site.body = 503, b"busy"
        job = self.scrape()
        self.assertEqual((job.status, job.last_error), (Status.FAILED, "status 503, expected 2xx"))
        self.assertEqual(Alert.objects.get(source=job.source).state, Alert.State.FIRING)

    def test_an_answer_that_is_not_an_exposition_fails_with_a_parse_error(self):
        self.site.body = b"<html>{ not metrics</html>\n"
        job = self.scrape()
        self.assertEqual(job.status, Status.FAILED)
        self.assertIn("not in Prometheus' text format", job.last_error)

    def test_an_answer_over_the_size_limit_is_refused(self):
        self.site.body = b"x 1\n" * 1000
        with override_settings(SCRAPE_MAX_BYTES=1000):
            job = self.scrape()
        self.assertEqual(job.status, Status.FAILED)
        self.assertIn("larger than 1000 bytes (SUSTAIN_SCRAPE_MAX_BYTES)", job.last_error)
        self.assertFalse(Series.objects.filter(name="x").exists())

    def test_the_request_says_what_it_accepts_and_the_timeout(self):
        self.site.body = b"x 1\n"
        self.scrape(timeout_seconds=7)
        headers = self.site.requests[-1]["headers"]
        self.assertTrue(headers["Accept"].startswith("text/plain;version=0.0.4"))
        self.assertEqual(headers["X-Prometheus-Scrape-Timeout-Seconds"], "7")

    def test_the_series_limit_is_the_scrapes_error_and_known_series_still_get_points(self):
        self.site.body = b"a 1\n"
        with override_settings(MAX_SERIES_PER_ORG=5):
            job = self.scrape()  # a, up, scrape_duration_seconds, scrape_samples_scraped
            self.assertEqual(job.status, Status.OK)
            self.site.body = b"a 2\nb 1\nc 1\n"
            self.run_at(60)
        job.refresh_from_db()
        self.assertEqual(job.status, Status.FAILED)
        self.assertIn("limit of 5 series (SUSTAIN_MAX_SERIES_PER_ORG)", job.last_error)
        self.assertEqual(Series.objects.filter(organization=self.acme).count(), 5)
        a = Series.objects.get(name="a")
        self.assertEqual(
            list(Sample.objects.filter(series=a).order_by("time").values_list("value", flat=True)),
            [1, 2],
        )
        self.assertEqual(Alert.objects.get(source=job.source).state, Alert.State.FIRING)

    def test_pausing_a_failing_job_resolves_its_alert_and_it_is_never_claimed(self):
        self.site.status = 500
        job = self.scrape()
        actions.pause_scrape_job(self.mia, job, now=at(10))
        self.assertEqual(Alert.objects.get(source=job.source).state, Alert.State.RESOLVED)
        self.assertEqual(self.run_at(3600), 0)


@override_settings(OUTBOUND_ALLOW_NETWORKS=LOCAL)
class TimeoutTests(ScrapeTestCase):
    def test_a_target_slower_than_the_timeout_fails_the_scrape(self):
        release = threading.Event()

        class Slow(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                release.wait(5)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.addCleanup(release.set)
        job = self.job(f"http://127.0.0.1:{server.server_address[1]}/metrics", timeout_seconds=1)
        started = time.monotonic()
        self.run_at(0)
        self.assertLess(time.monotonic() - started, 4)
        job.refresh_from_db()
        self.assertEqual((job.status, job.last_error), (Status.FAILED, "timed out"))


class SchedulingTests(ScrapeTestCase):
    def test_a_due_job_is_claimed_by_one_worker_only(self):
        job = self.job(f"http://127.0.0.1:{closed_port()}/metrics")
        lease, first = scrape_runs.claim(at(0), 10)
        _, second = scrape_runs.claim(at(1), 10)
        self.assertEqual(([j.pk for j in first], second), ([job.pk], []))
        # the lease ends: a worker that died mid-run only delays the job
        _, again = scrape_runs.claim(at(0) + scrape_runs.LEASE + timedelta(seconds=1), 10)
        self.assertEqual([j.pk for j in again], [job.pk])
        self.assertIsNone(scrape_runs.record(job, lease, at(2), scrape_runs.Outcome(True, 1)))

    def test_scrape_now_makes_it_due_and_a_paused_job_refuses(self):
        job = self.job(f"http://127.0.0.1:{closed_port()}/metrics", interval_seconds=600)
        self.run_at(0)
        self.assertEqual(self.run_at(60), 0)
        actions.scrape_now(self.mia, job, now=at(60))
        self.assertEqual(self.run_at(60), 1)
        actions.pause_scrape_job(self.mia, job)
        with self.assertRaises(Exception) as refused:
            actions.scrape_now(self.mia, job)
        self.assertEqual(refused.exception.status, 409)

    def test_the_command_scrapes_what_is_due_once(self):
        self.job(f"http://127.0.0.1:{closed_port()}/metrics")
        from io import StringIO

        out = StringIO()
        call_command("scrapes", "--once", stdout=out)
        self.assertEqual(out.getvalue().strip(), "1 scrapes.")
        self.assertEqual(ScrapeJob.objects.get().status, Status.FAILED)

    def test_the_scheduler_loop_scrapes_a_due_job(self):
        app = App()
        self.addCleanup(app.stop)
        job = actions.create_scrape_job(self.mia, self.acme, name="loop", url=app.url())
        ran = scrape_runs.Scheduler(2).run(seconds=1.5)
        self.assertGreaterEqual(ran, 1)
        job.refresh_from_db()
        self.assertEqual(job.status, Status.OK, job.last_error)


class SetUpTests(SustainTestCase):
    def test_loopback_is_refused_unless_an_administrator_allows_it(self):
        with self.assertRaises(Invalid) as refused:
            actions.create_scrape_job(
                self.mia, self.acme, name="self", url="http://127.0.0.1:8000/metrics"
            )
        self.assertEqual(refused.exception.errors[0]["field"], "url")
        self.assertIn("SUSTAIN_OUTBOUND_ALLOW_NETWORKS", refused.exception.message)
