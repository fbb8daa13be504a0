"""Charts of metric series: percentiles of each step from the buckets merged over it (equal to
a hand computation, not an average of percentiles), counters as rates across a reset, the
resolution a range reads, and the figure's thresholds, firing periods and deployments (a valid
plotly figure, tenant-scoped), over data sent through the ingest door and rolled up by the
rollups module."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import plotly.graph_objects as go
from django.test import override_settings

from sustain.core.errors import Invalid
from sustain.monitoring import actions, alerts, chart_data, charts, rollups, rule_eval, rules
from sustain.monitoring.models import Alert, Series
from sustain.monitoring.series import Histogram, Incoming, ingest
from sustain.releases.models import Deployment, Release
from tests.base import SustainTestCase

MINUTE, HOUR, DAY = rollups.MINUTE, rollups.HOUR, rollups.DAY
NOW = rollups.now_ms() // HOUR * HOUR
T0 = NOW - 2 * DAY  # two days ago at a whole hour: inside every retention
BOUNDS = [0.1, 0.5, 1.0]


def dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def wall(ms: int) -> str:
    """How the figure writes a time (the viewer's zone: UTC here)."""
    return dt(ms).strftime("%Y-%m-%d %H:%M:%S")


class ChartTestCase(SustainTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.token, _ = actions.create_machine_token(
            cls.root, cls.acme, name="exporter", config_item=cls.acme_prod
        )

    def send(self, *incoming: Incoming) -> dict[str, Series]:
        ingest(self.token, list(incoming))
        rollups.roll_minutes(T0 - HOUR, NOW)
        rollups.roll_hours(T0 - HOUR, NOW)
        return {s.name: s for s in Series.objects.filter(organization=self.acme)}

    def histogram(self, temporality: str, points: list[tuple[int, list[int]]]) -> Series:
        one = Incoming(
            "h", "latency_seconds", {"endpoint": "/pay"}, "histogram", "s", temporality,
            config_item=self.acme_prod,
            histograms=[Histogram(t, sum(c), None, BOUNDS, c) for t, c in points],
        )  # fmt: skip
        return self.send(one)["latency_seconds"]


class PercentileTests(ChartTestCase):
    def test_each_step_merges_its_buckets_and_interpolates_once(self):
        # Two points in the first 5-minute step, one in the second.
        series = self.histogram(
            "delta",
            [(T0 + 10_000, [1, 2, 0, 0]), (T0 + 2 * MINUTE, [3, 0, 1, 0]), (T0 + 6 * MINUTE, [0, 0, 5, 5])],
        )  # fmt: skip
        lines = chart_data.read([series], T0, T0 + DAY)  # 24 h: 1-minute rollups, 5-min steps
        self.assertEqual((lines.plan.resolution, lines.plan.step), ("minute", 5 * MINUTE))
        first = dict(lines.line("p50"))[T0]
        # By hand: merged [4, 2, 1, 0], 7 observations; the 3.5th lies in the first bucket
        # (0 to 0.1, 4 of them): 0 + 0.1 × 3.5 / 4.
        self.assertAlmostEqual(first, 0.0875)
        # The average of each point's p50 (0.1 × 1.5/1 … and 0.1 × 2/3) would be 0.0833…, not it.
        p95 = dict(lines.line("p95"))[T0]
        # rank 6.65: past the first two buckets (6), in the third (0.5 to 1, one): 0.5 + 0.65 × 0.5
        self.assertAlmostEqual(p95, 0.825)
        second = dict(lines.line("p99"))[T0 + 5 * MINUTE]
        # [0, 0, 5, 5]: rank 9.9 is in the open bucket above the last bound: that bound.
        self.assertEqual(second, 1.0)
        self.assertAlmostEqual(dict(lines.line("rate"))[T0], 7 / 300)

    def test_a_cumulative_histogram_is_charted_by_its_changes(self):
        series = self.histogram(
            "cumulative",
            [(T0, [1, 0, 0, 0]), (T0 + MINUTE, [5, 0, 0, 0]), (T0 + 2 * MINUTE, [5, 4, 0, 0])],
        )
        lines = chart_data.read([series], T0, T0 + HOUR)  # 1 h: the raw points
        self.assertEqual(lines.plan.resolution, "raw")
        p50 = dict(lines.line("p50"))
        # The first point is the baseline; then +4 in bucket 0, then +4 in bucket 1.
        self.assertAlmostEqual(p50[T0 + MINUTE], 0.05)
        self.assertAlmostEqual(p50[T0 + 2 * MINUTE], 0.1 + 0.4 * 2 / 4)
        self.assertNotIn(T0, p50)

    def test_several_series_are_merged_bucket_by_bucket(self):
        fast = Incoming(
            "a",
            "rt",
            {"e": "a"},
            "histogram",
            "s",
            "delta",
            config_item=self.acme_prod,
            histograms=[Histogram(T0, 10, None, BOUNDS, [10, 0, 0, 0])],
        )
        slow = Incoming("b", "rt", {"e": "b"}, "histogram", "s", "delta", config_item=self.acme_prod,
                        histograms=[Histogram(T0, 10, None, BOUNDS, [0, 0, 10, 0])])  # fmt: skip
        self.send(fast, slow)
        both = list(Series.objects.filter(name="rt"))
        merged = chart_data.read(both, T0, T0 + DAY)
        # 20 observations: the 10th is the last of the fast bucket (0.1), never (0.05 + 0.75) / 2.
        self.assertAlmostEqual(dict(merged.line("p50"))[T0], 0.1)
        spread = chart_data.distributions(both, T0, T0 + DAY)
        self.assertEqual(
            spread[both[0].pk][1], [10, 0, 0, 0] if both[0].labels["e"] == "a" else [0, 0, 10, 0]
        )


class RateAndResolutionTests(ChartTestCase):
    def test_a_counter_is_charted_as_its_rate_across_a_reset(self):
        points = [(T0 + i * MINUTE, v) for i, v in enumerate([100.0, 160.0, 220.0, 30.0, 90.0])]
        counter = Incoming(
            "c", "requests_total", {}, "counter", config_item=self.acme_prod, points=points
        )
        series = self.send(counter)["requests_total"]  # fmt: skip
        raw = dict(chart_data.read([series], T0, T0 + HOUR).line("rate"))
        # 10-second steps: each minute's increase over 10 s; the reset (220 → 30) counts 30.
        self.assertEqual([raw[T0 + i * MINUTE] for i in (1, 2, 3, 4)], [6.0, 6.0, 3.0, 6.0])
        minutes = dict(chart_data.read([series], T0, T0 + DAY).line("rate"))
        self.assertAlmostEqual(minutes[T0], (60 + 60 + 30 + 60) / 300)

    def test_the_range_picks_the_table_and_the_step(self):
        cases = {
            HOUR: ("raw", 10_000),
            6 * HOUR: ("minute", MINUTE),
            DAY: ("minute", 5 * MINUTE),
            7 * DAY: ("hour", HOUR),
            30 * DAY: ("hour", 2 * HOUR),
            365 * DAY: ("hour", DAY),
        }
        for span, wanted in cases.items():
            chosen = chart_data.plan(NOW - span, NOW, NOW)
            self.assertEqual((chosen.resolution, chosen.step), wanted, span)
            self.assertLessEqual(span // chosen.step, chart_data.TARGET_POINTS)

    @override_settings(METRICS_RAW_DAYS=1, METRICS_MINUTE_DAYS=3)
    def test_a_range_older_than_a_tables_retention_reads_the_coarser_one(self):
        self.assertEqual(
            chart_data.plan(NOW - 2 * DAY, NOW - 2 * DAY + HOUR, NOW).resolution, "minute"
        )
        self.assertEqual(chart_data.plan(NOW - 5 * DAY, NOW - 4 * DAY, NOW).resolution, "hour")

    def test_a_year_reads_the_hourly_rollups(self):
        series = self.histogram("delta", [(T0 + i * 20 * MINUTE, [1, 1, 1, 1]) for i in range(6)])
        lines = chart_data.read([series], NOW - 365 * DAY, NOW)
        self.assertEqual(lines.plan.resolution, "hour")
        # Daily steps from NOW - 365 days: T0 (two days before NOW) starts one.
        self.assertAlmostEqual(dict(lines.line("rate"))[T0], 24 / 86400)

    def test_a_bad_range_is_refused_by_name(self):
        for start, end, field in ((NOW, NOW, "end"), (NOW - 401 * DAY, NOW, "start")):
            with self.assertRaises(Invalid) as caught:
                chart_data.plan(start, end, NOW)
            self.assertEqual(caught.exception.errors[0]["field"], field)


class OverlayTests(ChartTestCase):
    def setUp(self):
        self.series = self.histogram("delta", [(T0 + i * MINUTE, [5, 3, 1, 1]) for i in range(120)])
        self.rule = rules.create_rule(
            self.mia, self.acme, name="Pay latency", metric="latency_seconds",
            matchers=[{"label": "endpoint", "op": "=", "value": "/pay"}],
            aggregation="p95", warning=0.5, critical=0.9,
        )  # fmt: skip
        rules.create_rule(  # another endpoint's: not drawn on this series
            self.mia, self.acme, name="Other", metric="latency_seconds",
            matchers=[{"label": "endpoint", "op": "=", "value": "/other"}], critical=2.0,
        )  # fmt: skip
        for state, minutes in (("firing", 20), ("resolved", 50)):
            at = dt(T0 + minutes * MINUTE)
            alerts.receive(self.rule.source, alerts.Signal(
                fingerprint=rule_eval.fingerprint(self.series.pk), state=state,
                name="Pay latency", starts_at=at, ends_at=None if state == "firing" else at,
                severity="critical",
            ), at)  # fmt: skip
        version = self.product.versions.create(name="2.5.0", major=2, minor=5, patch=0)
        release = Release.objects.create(product=self.product, version=version, kind="minor")
        Deployment.objects.create(
            release=release, environment=self.acme_prod, organization=self.acme,
            status="succeeded", started_at=dt(T0 + 70 * MINUTE),
            finished_at=dt(T0 + 75 * MINUTE), created_by=self.alice,
        )  # fmt: skip

    def figure(self, user):
        fig, _lines = charts.series_chart(self.series, user, T0, T0 + 6 * HOUR, zone=UTC)
        return fig

    def test_thresholds_firing_periods_and_deployments_are_on_the_figure(self):
        fig = self.figure(self.alice)
        go.Figure(fig)  # plotly refuses any property it does not know
        shapes = fig["layout"]["shapes"]
        lines = sorted((s["y0"], s["line"]["color"]) for s in shapes if s.get("xref") == "paper")
        self.assertEqual(lines, [(0.5, charts.WARNING), (0.9, charts.CRITICAL)])
        (band,) = [s for s in shapes if s["type"] == "rect"]
        self.assertEqual((band["x0"], band["x1"]), (wall(T0 + 20 * MINUTE), wall(T0 + 50 * MINUTE)))
        self.assertEqual(band["fillcolor"], charts.CRITICAL)
        (marks,) = [t for t in fig["data"] if t["name"] == "deployments"]
        self.assertEqual(marks["x"], [wall(T0 + 75 * MINUTE)])
        self.assertIn("Ledger 2.5.0 → acme-prod by Alice Agent (Succeeded)", marks["hovertext"][0])
        self.assertEqual([t["name"] for t in fig["data"][:3]], ["p50", "p95", "p99"])
        self.assertIn("Pay latency", json.dumps(fig["layout"]["annotations"]))

    def test_a_period_still_firing_runs_to_the_end_of_the_range(self):
        at = dt(T0 + 100 * MINUTE)
        alerts.receive(self.rule.source, alerts.Signal(
            fingerprint=rule_eval.fingerprint(self.series.pk), state=Alert.State.FIRING,
            name="Pay latency", starts_at=at, severity="warning",
        ), at)  # fmt: skip
        bands = [s for s in self.figure(self.alice)["layout"]["shapes"] if s["type"] == "rect"]
        self.assertEqual(len(bands), 2)
        self.assertEqual(bands[1]["x1"], wall(T0 + 6 * HOUR))

    def test_the_figure_shows_a_customer_their_own_only(self):
        fig = self.figure(self.carol)  # Acme's customer: Acme's rule, alert and deployment
        self.assertEqual(len(fig["layout"]["shapes"]), 4)
        globex_view = charts.series_chart(self.series, self.dave, T0, T0 + HOUR)[0]
        self.assertEqual(globex_view["layout"]["shapes"], [])  # nothing of Acme's for Globex

    def test_the_embedded_json_cannot_close_its_element(self):
        self.series.labels = {"endpoint": "</script><script>alert(1)</script>"}
        html = charts.embed(self.figure(self.alice), "x")
        self.assertEqual(html.count("</script>"), 1)
        self.assertIn("\\u003cscript\\u003ealert(1)", html.lower())  # escaped, still there
