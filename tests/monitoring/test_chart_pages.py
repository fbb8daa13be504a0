"""The series explorer, a series' page, pins and dashboards, and the chart API, as people use
them: filters and ranges checked (an unknown parameter refused by name), the chart embedded
for charts.js, pins made and removed by the team only, a customer's dashboard showing their
organization's only, the slowest endpoint first in the breakdown."""

from __future__ import annotations

import json
import re

from sustain.monitoring import dashboards, rollups
from sustain.monitoring.models import DashboardPin, Series
from sustain.monitoring.series import Histogram, Incoming
from tests.monitoring.test_charts import BOUNDS, HOUR, MINUTE, NOW, ChartTestCase

RECENT = NOW - 3 * HOUR


class PageTestCase(ChartTestCase):
    def setUp(self):
        made = []
        for endpoint, counts in (
            ("/pay", [1, 8, 1, 0]),
            ("/slow", [0, 0, 2, 8]),
            ("/ok", [9, 1, 0, 0]),
        ):
            made.append(Incoming(
                endpoint, "http_duration_seconds", {"endpoint": endpoint}, "histogram", "s",
                "delta", config_item=self.acme_prod,
                histograms=[Histogram(RECENT + i * MINUTE, 10, None, BOUNDS, counts) for i in range(60)],
            ))  # fmt: skip
        made.append(Incoming(
            "r", "http_requests_total", {}, "counter", config_item=self.acme_prod,
            points=[(RECENT + i * MINUTE, float(100 * i)) for i in range(60)],
        ))  # fmt: skip
        made.append(Incoming(
            "e", "http_errors_total", {}, "counter", config_item=self.acme_prod,
            points=[(RECENT + i * MINUTE, float(5 * i)) for i in range(60)],
        ))  # fmt: skip
        self.series = self.send(*made)
        self.pay = Series.objects.get(name="http_duration_seconds", labels__endpoint="/pay")
        self.client.force_login(self.alice)


class ExplorerTests(PageTestCase):
    def test_the_list_filters_by_name_and_label_and_shows_a_trend(self):
        page = self.client.get(
            "/monitoring/series/", {"name": "duration", "label": "endpoint=~/(pay|slow)"}
        )
        self.assertEqual(page.status_code, 200)
        text = page.content.decode()
        self.assertEqual(text.count('href="/monitoring/series/'), 2)
        self.assertIn("endpoint=/slow", text)
        self.assertNotIn("endpoint=/ok", text)
        self.assertIn('<svg class="spark"', text)

    def test_unknown_or_malformed_parameters_are_refused_by_name(self):
        for query, named in (
            ({"colour": "red"}, "colour"),
            ({"label": "endpoint"}, "label takes"),
            ({"label": "endpoint=~("}, "label"),
            ({"item": "x"}, "item must be"),
        ):
            page = self.client.get("/monitoring/series/", query)
            self.assertEqual(page.status_code, 400, query)
            self.assertIn(named, page.content.decode())

    def test_customers_use_the_portal_not_the_explorer(self):
        self.client.force_login(self.carol)
        self.assertEqual(self.client.get("/monitoring/series/").status_code, 403)
        self.assertEqual(self.client.get(f"/monitoring/series/{self.pay.pk}").status_code, 403)


class SeriesPageTests(PageTestCase):
    def chart(self, query: dict) -> dict:
        page = self.client.get(f"/monitoring/series/{self.pay.pk}", query)
        self.assertEqual(page.status_code, 200, page.content[-500:])
        text = page.content.decode()
        self.assertIn("/static/vendor/plotly.min.js", text)
        (element,) = re.findall(r'data-chart="(chart-\d+)"', text)
        block = re.search(
            rf'<script type="application/json" id="{element}">(.*?)</script>', text, re.S
        )
        return json.loads(block.group(1))

    def test_the_page_embeds_the_chart_for_each_range(self):
        for query, resolution in (
            ({"range": "1h"}, "raw"),
            ({}, "minute"),
            ({"range": "30d"}, "hour"),
        ):
            fig = self.chart(query)
            self.assertEqual([t["name"] for t in fig["data"]], ["p50", "p95", "p99"])
            page = self.client.get(f"/monitoring/series/{self.pay.pk}", query).content.decode()
            self.assertIn(
                {"raw": "raw samples", "minute": "1-minute", "hour": "1-hour"}[resolution], page
            )

    def test_a_custom_range_and_its_mistakes(self):
        fig = self.chart({"range": "custom", "from": "2026-12-01T00:00", "to": "2026-12-02T00:00"})
        self.assertTrue(fig["layout"]["xaxis"]["range"][0].startswith("2026-12-01"))
        for query in (
            {"range": "2d"},
            {"range": "custom", "from": "2026-12-02T00:00", "to": "2026-12-01T00:00"},
            {"range": "custom", "from": "yesterday", "to": "2026-12-01T00:00"},
            {"from": "2020-01-01T00:00", "to": "2026-01-01T00:00"},
            {"range": "24h", "zz": "1"},
        ):
            self.assertEqual(
                self.client.get(f"/monitoring/series/{self.pay.pk}", query).status_code, 400, query
            )


class PinTests(PageTestCase):
    def test_an_agent_pins_and_unpins_from_the_series_page(self):
        answer = self.client.post(
            f"/monitoring/series/{self.pay.pk}/pin",
            {"dashboard": "item", "aggregation": "p95", "title": "Pay"},
        )
        self.assertEqual(answer.status_code, 302)
        pin = DashboardPin.objects.get()
        self.assertEqual(
            (pin.config_item, pin.aggregation, pin.title), (self.acme_prod, "p95", "Pay")
        )
        dashboard = self.client.get(
            f"/monitoring/items/{self.acme_prod.pk}/dashboard"
        ).content.decode()
        self.assertIn("Pay", dashboard)
        self.client.post(f"/monitoring/pins/{pin.pk}/delete")
        self.assertFalse(DashboardPin.objects.exists())

    def test_a_wrong_aggregation_is_refused_and_nothing_is_pinned(self):
        self.client.post(f"/monitoring/series/{self.pay.pk}/pin", {"aggregation": "avg"})
        self.assertFalse(DashboardPin.objects.exists())

    def test_customers_cannot_pin_or_unpin(self):
        pin = dashboards.pin_series(self.alice, self.pay)
        self.client.force_login(self.carol)
        self.assertEqual(self.client.post(f"/monitoring/series/{self.pay.pk}/pin").status_code, 403)
        self.assertEqual(self.client.post(f"/monitoring/pins/{pin.pk}/delete").status_code, 403)
        self.assertTrue(DashboardPin.objects.filter(pk=pin.pk).exists())


class DashboardTests(PageTestCase):
    def test_health_and_the_slowest_endpoint_first(self):
        page = self.client.get("/monitoring/dashboard", {"organization": "acme", "range": "6h"})
        self.assertEqual(page.status_code, 200)
        text = page.content.decode()
        for title in (
            "Latency: http_duration_seconds",
            "Throughput: http_requests_total",
            "Error rate",
        ):
            self.assertIn(title, text)
        rows = re.findall(r"<tr><td>(/\w+)</td>", text)
        self.assertEqual(rows, ["/slow", "/pay", "/ok"])
        table = dashboards.breakdown(
            list(Series.objects.filter(name="http_duration_seconds")), "endpoint", RECENT, NOW
        )
        # /slow: [0, 0, 2, 8] × 60: rank 570 of 600 is in the open bucket: the last bound.
        self.assertEqual((table[0].value, table[0].p95), ("/slow", 1.0))
        self.assertAlmostEqual(table[0].rate, 600 / (3 * 3600))

    def test_the_error_rate_is_errors_over_requests(self):
        start, end = RECENT, RECENT + HOUR
        errors = dashboards.chart_data.read([self.series["http_errors_total"]], start, end)
        requests = dashboards.chart_data.read([self.series["http_requests_total"]], start, end)
        shares = {v for _t, v in dashboards.error_rate(errors, requests) if v is not None}
        self.assertEqual({round(v, 6) for v in shares}, {0.05})

    def test_a_customer_reads_their_own_dashboard_only(self):
        dashboards.pin_series(self.alice, self.pay, title="Acme pay latency")
        self.client.force_login(self.dave)
        page = self.client.get("/portal/status/dashboard").content.decode()
        self.assertNotIn("Acme pay latency", page)
        self.assertNotIn("http_duration_seconds", page)
        self.client.force_login(self.carol)
        page = self.client.get("/portal/status/dashboard", {"range": "6h"}).content.decode()
        self.assertIn("Acme pay latency", page)
        self.assertNotIn("Unpin", page)
        self.assertEqual(self.client.get("/monitoring/dashboard").status_code, 403)


class ChartApiTests(PageTestCase):
    def test_the_chart_and_the_percentiles_over_a_range(self):
        api = self.api(self.carol)
        start = rollups.iso(RECENT)
        chart = api.get(f"/api/v1/metrics/series/{self.pay.pk}/chart", start=start)
        self.assertEqual(chart.status_code, 200, chart.content)
        self.assertEqual(chart.json()["resolution"], "minute")
        self.assertEqual(set(chart.json()["lines"]), {"p50", "p95", "p99", "rate"})
        found = api.get(f"/api/v1/metrics/series/{self.pay.pk}/percentiles", start=start).json()
        # [1, 8, 1, 0] × 60 merged: 600; p50 at rank 300, in the 0.1–0.5 bucket (480 of them).
        self.assertEqual(found["count"], 600)
        self.assertAlmostEqual(found["p50"], 0.1 + 0.4 * 240 / 480)
        counter = self.series["http_requests_total"]
        refused = api.get(f"/api/v1/metrics/series/{counter.pk}/percentiles")
        self.assertEqual(refused.status_code, 422)  # a counter has none
        self.assertEqual(
            self.api(self.dave).get(f"/api/v1/metrics/series/{self.pay.pk}/chart").status_code, 404
        )

    def test_pins_through_the_api(self):
        api = self.api(self.alice)
        made = api.post("/api/v1/metrics/pins", {"series": self.pay.pk, "aggregation": "p99"})
        self.assertEqual(made.status_code, 201, made.content)
        selector = api.post("/api/v1/metrics/selector-pins", {
            "organization": "acme", "metric": "http_duration_seconds",
            "matchers": [{"label": "endpoint", "op": "!=", "value": "/ok"}], "aggregation": "p95",
        })  # fmt: skip
        self.assertEqual(selector.status_code, 201, selector.content)
        self.assertEqual(len(api.get("/api/v1/metrics/pins").json()["results"]), 2)
        self.assertEqual(self.api(self.dave).get("/api/v1/metrics/pins").json()["results"], [])
        refused = self.api(self.carol).post("/api/v1/metrics/pins", {"series": self.pay.pk})
        self.assertEqual(refused.status_code, 403)
        bad = api.post("/api/v1/metrics/pins", {"series": self.pay.pk, "aggregation": "avg"})
        self.assertEqual(bad.json()["errors"][0]["field"], "aggregation")
        page = self.client.get("/monitoring/dashboard", {"organization": "acme"}).content.decode()
        self.assertIn("http_duration_seconds (2 series)", page)
        gone = api.delete(f"/api/v1/metrics/pins/{made.json()['id']}")
        self.assertEqual(gone.status_code, 204)
        self.assertEqual(DashboardPin.objects.count(), 1)
