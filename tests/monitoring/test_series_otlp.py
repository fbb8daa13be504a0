"""OTLP/HTTP at /v1/metrics: the OpenTelemetry SDK's own exporter sends gauges, sums and
histograms to a live server and the API reads back what it sent, bucket for bucket; and the
specification's answers (partial success, 400, 401, 413 even for a gzip bomb, 429)."""

from __future__ import annotations

import gzip
import json

from django.test import Client, LiveServerTestCase, override_settings
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.sdk.metrics import Counter, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExportResult,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource

from sustain.monitoring import actions, otlp_views
from sustain.monitoring.models import HistogramSample, Sample, Series
from tests.base import ApiClient, SustainTestCase

BOUNDS = [0.1, 0.5, 1.0, 5.0]


class RecordingExporter(OTLPMetricExporter):
    """The SDK's exporter, keeping what it sent and what came back (the peer, observed)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sent: list = []
        self.results: list = []

    def export(self, metrics_data, timeout_millis: float = 10_000, **kwargs):
        self.sent.append(metrics_data)
        result = super().export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        self.results.append(result)
        return result


class SdkExporterTests(LiveServerTestCase):
    def setUp(self):
        SustainTestCase.setUpTestData.__func__(self)  # the named actors, per test here
        self.token, self.raw = actions.create_machine_token(self.mia, self.acme, name="otel")

    def meter_provider(self, exporter):
        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
        resource = Resource.create({"service.name": "checkout", "sustain.config_item": "acme-prod"})
        view = View(
            instrument_name="checkout.duration",
            aggregation=ExplicitBucketHistogramAggregation(boundaries=BOUNDS),
        )
        return MeterProvider(metric_readers=[reader], resource=resource, views=[view])

    def exporter(self, **kwargs):
        return RecordingExporter(
            endpoint=f"{self.live_server_url}/v1/metrics",
            headers={"Authorization": f"Bearer {self.raw}"},
            **kwargs,
        )

    def points(self, series: Series):
        response = ApiClient(self.token_for(self.carol)).get(
            f"/api/v1/metrics/series/{series.pk}/points"
        )
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()["points"]

    def token_for(self, user):
        from sustain.accounts import actions as accounts

        return accounts.create_token(None, user)[1]

    def sent_points(self, exporter, name):
        return [
            point
            for data in exporter.sent
            for rm in data.resource_metrics
            for sm in rm.scope_metrics
            for metric in sm.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]

    def test_gauges_sums_and_histograms_arrive_as_sent(self):
        exporter = self.exporter(compression=Compression.Gzip)
        provider = self.meter_provider(exporter)
        meter = provider.get_meter("shop")
        orders = meter.create_counter("checkout.orders", unit="1")
        queue = meter.create_up_down_counter("checkout.queue")
        temperature = meter.create_gauge("checkout.temperature", unit="Cel")
        duration = meter.create_histogram("checkout.duration", unit="s")
        for route, n in (("/pay", 3), ("/cart", 4)):
            orders.add(n, {"route": route})
        queue.add(5)
        queue.add(-2)
        temperature.set(42.5, {"room": "a"})
        for value in (0.05, 0.2, 0.3, 0.7, 2.0, 7.0, 7.5):
            duration.record(value, {"route": "/pay"})
        self.assertTrue(provider.force_flush())
        orders.add(2, {"route": "/pay"})
        self.assertTrue(provider.force_flush())
        provider.shutdown()
        self.assertEqual(exporter.results, [MetricExportResult.SUCCESS] * len(exporter.results))

        pay = Series.objects.get(name="checkout.orders", labels__route="/pay")
        self.assertEqual((pay.kind, pay.temporality), ("counter", "cumulative"))
        self.assertEqual(pay.config_item, self.acme_prod)
        resource = exporter.sent[0].resource_metrics[0].resource.attributes
        self.assertEqual(
            pay.labels,
            {
                "route": "/pay",
                "service.name": "checkout",
                # the SDK's own id of this process: the series of one instance
                "service.instance.id": resource["service.instance.id"],
            },
        )
        sent = [
            p
            for p in self.sent_points(exporter, "checkout.orders")
            if p.attributes["route"] == "/pay"
        ]
        self.assertEqual(
            self.points(pay), [[p.time_unix_nano // 10**6 / 1000, float(p.value)] for p in sent]
        )
        self.assertEqual([v for _, v in self.points(pay)][:2], [3.0, 5.0])  # shutdown sends again

        queue_series = Series.objects.get(name="checkout.queue")
        self.assertEqual(queue_series.kind, "gauge")  # an up-down sum
        self.assertEqual(self.points(queue_series)[-1][1], 3.0)
        gauge = Series.objects.get(name="checkout.temperature")
        self.assertEqual((gauge.kind, gauge.unit), ("gauge", "Cel"))
        self.assertEqual(self.points(gauge)[0][1], 42.5)

        histogram = Series.objects.get(name="checkout.duration")
        self.assertEqual(histogram.kind, "histogram")
        back = self.points(histogram)
        sent_h = self.sent_points(exporter, "checkout.duration")
        self.assertEqual(
            back,
            [
                {
                    "time": p.time_unix_nano // 10**6 / 1000,
                    "count": p.count,
                    "sum": p.sum,
                    "bounds": list(p.explicit_bounds),
                    "counts": list(p.bucket_counts),
                }
                for p in sent_h
            ],
        )
        self.assertEqual(back[0]["counts"], [1, 2, 1, 1, 2])
        self.assertEqual(back[0]["bounds"], BOUNDS)

    def test_delta_counters_keep_their_temporality(self):
        exporter = self.exporter(preferred_temporality={Counter: AggregationTemporality.DELTA})
        provider = self.meter_provider(exporter)
        orders = provider.get_meter("shop").create_counter("shop.orders")
        orders.add(3)
        provider.force_flush()
        orders.add(4)
        provider.force_flush()
        provider.shutdown()
        series = Series.objects.get(name="shop.orders")
        self.assertEqual((series.kind, series.temporality), ("counter", "delta"))
        self.assertEqual([v for _, v in self.points(series)], [3.0, 4.0])

    def test_a_wrong_token_is_refused_and_nothing_is_written(self):
        exporter = RecordingExporter(
            endpoint=f"{self.live_server_url}/v1/metrics",
            headers={"Authorization": "Bearer sum_not-a-token"},
        )
        provider = self.meter_provider(exporter)
        provider.get_meter("shop").create_counter("shop.orders").add(1)
        provider.force_flush()
        provider.shutdown()
        self.assertEqual(exporter.results[0], MetricExportResult.FAILURE)
        self.assertEqual(Series.objects.count(), 0)


# --- the answers, with hand-made requests ---------------------------------------------------
NOW_NS = 1_765_100_000 * 10**9


def request_with(*metrics: dict, resource: dict | None = None) -> ExportMetricsServiceRequest:
    body = {
        "resourceMetrics": [
            {
                "resource": {"attributes": _attributes(resource or {"service.name": "api"})},
                "scopeMetrics": [{"metrics": list(metrics)}],
            }
        ]
    }
    return json_format.ParseDict(body, ExportMetricsServiceRequest())


def _attributes(values: dict) -> list:
    return [{"key": k, "value": {"stringValue": v}} for k, v in values.items()]


def gauge(name="api.up", value=1.0, at=NOW_NS, **labels):
    point = {"timeUnixNano": str(at), "asDouble": value, "attributes": _attributes(labels)}
    return {"name": name, "gauge": {"dataPoints": [point]}}


class OtlpAnswerTests(SustainTestCase):
    URL = "/v1/metrics"

    def setUp(self):
        self.token, self.raw = actions.create_machine_token(self.mia, self.acme, name="otel")
        self.client = Client()

    def post(self, body: bytes, content_type="application/x-protobuf", raw=None, **headers):
        return self.client.post(
            self.URL,
            body,
            content_type=content_type,
            headers={"Authorization": f"Bearer {raw or self.raw}", **headers},
        )

    def status_of(self, response) -> status_pb2.Status:
        status = status_pb2.Status()
        if response["Content-Type"] == "application/json":
            json_format.Parse(response.content, status)
        else:
            status.ParseFromString(response.content)
        return status

    def test_rejected_points_are_a_partial_success_the_rest_is_kept(self):
        summary = {
            "name": "api.latency.summary",
            "summary": {"dataPoints": [{"timeUnixNano": str(NOW_NS), "count": "1"}]},
        }
        no_time = gauge("api.late", at=0)
        bad_buckets = {
            "name": "api.duration",
            "histogram": {
                "aggregationTemporality": 2,
                "dataPoints": [
                    {
                        "timeUnixNano": str(NOW_NS),
                        "count": "5",
                        "bucketCounts": ["1", "1"],
                        "explicitBounds": [1.0, 2.0],
                    }
                ],
            },
        }
        body = request_with(gauge(), summary, no_time, bad_buckets).SerializeToString()
        response = self.post(body)
        self.assertEqual(response.status_code, 200, response.content)
        answer = ExportMetricsServiceResponse.FromString(response.content)
        self.assertEqual(answer.partial_success.rejected_data_points, 3)
        message = answer.partial_success.error_message
        self.assertIn("summary is not supported", message)
        self.assertIn("time is missing", message)
        self.assertIn("counts", message)
        self.assertEqual(list(Sample.objects.values_list("value", flat=True)), [1.0])
        self.assertEqual(HistogramSample.objects.count(), 0)

    def test_otlp_json_with_unknown_fields_is_read_and_answered_in_json(self):
        data = json_format.MessageToDict(request_with(gauge(value=7.0, host="a")))
        data["resourceMetrics"][0]["zzFuture"] = {"x": 1}
        data["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["zzNew"] = "y"
        response = self.post(json.dumps(data).encode(), content_type="application/json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response["Content-Type"], "application/json")
        self.assertEqual(json.loads(response.content), {})  # full success: no partial_success
        self.assertEqual(Series.objects.get().labels, {"host": "a", "service.name": "api"})

    def test_a_bad_body_is_400_as_a_status_in_the_requests_type(self):
        response = self.post(b"\xff\xff\xff not protobuf")
        self.assertEqual(response.status_code, 400, response.content)
        self.assertEqual(self.status_of(response).code, 3)  # INVALID_ARGUMENT
        response = self.post(b"{not json", content_type="application/json")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response["Content-Type"], "application/json")
        self.assertIn("not OTLP JSON", self.status_of(response).message)

    def test_without_a_machine_token_401(self):
        body = request_with(gauge()).SerializeToString()
        self.assertEqual(self.post(body, raw="sum_wrong").status_code, 401)
        self.assertEqual(self.post(body, raw=self.token_for(self.mia)).status_code, 401)
        self.assertEqual(Series.objects.count(), 0)

    @override_settings(METRICS_MAX_BODY=64 * 1024)
    def test_a_gzip_bomb_is_refused_without_inflating_it(self):
        bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))
        self.assertLess(len(bomb), 64 * 1024)
        response = self.post(bomb, **{"Content-Encoding": "gzip"})
        self.assertEqual(response.status_code, 413, response.content)
        self.assertIn("decompressed", self.status_of(response).message)
        plain = request_with(gauge()).SerializeToString()
        ok = self.post(gzip.compress(plain), **{"Content-Encoding": "gzip"})
        self.assertEqual(ok.status_code, 200, ok.content)

    @override_settings(METRICS_MAX_BODY=100)
    def test_a_body_over_the_limit_is_413(self):
        body = request_with(*[gauge(f"g{i}") for i in range(20)]).SerializeToString()
        response = self.post(body)
        self.assertEqual(response.status_code, 413)
        self.assertEqual(self.status_of(response).code, 8)  # RESOURCE_EXHAUSTED

    def test_when_busy_429_with_retry_after(self):
        held = []
        while otlp_views._running.acquire(blocking=False):
            held.append(1)
        try:
            response = self.post(request_with(gauge()).SerializeToString())
        finally:
            for _ in held:
                otlp_views._running.release()
        self.assertEqual(response.status_code, 429)
        self.assertEqual(response["Retry-After"], "2")
        self.assertEqual(Series.objects.count(), 0)

    @override_settings(MAX_SERIES_PER_ORG=2)
    def test_past_the_series_limit_the_new_series_are_rejected_points(self):
        body = request_with(*[gauge("api.up", route=f"/r{i}") for i in range(4)])
        response = self.post(body.SerializeToString())
        self.assertEqual(response.status_code, 200)
        answer = ExportMetricsServiceResponse.FromString(response.content)
        self.assertEqual(answer.partial_success.rejected_data_points, 2)
        self.assertIn("SUSTAIN_MAX_SERIES_PER_ORG", answer.partial_success.error_message)
        self.assertEqual(Series.objects.count(), 2)

    def test_a_resource_naming_another_organizations_item_is_rejected(self):
        body = request_with(gauge(), resource={"sustain.config_item": "globex-prod"})
        answer = ExportMetricsServiceResponse.FromString(
            self.post(body.SerializeToString()).content
        )
        self.assertEqual(answer.partial_success.rejected_data_points, 1)
        self.assertEqual(Series.objects.count(), 0)
