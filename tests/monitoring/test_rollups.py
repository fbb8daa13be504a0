"""Metric rollups: the 1-minute and 1-hour rows equal Python's count/min/max/sum/last of the
samples, histogram percentiles come from merged buckets, rolling again changes nothing, late
samples re-roll their minute, the retention deletes only what is old, the rollup endpoint is
tenant-scoped and picks its resolution by the step, and two workers never roll one range."""

from __future__ import annotations

import json

from django.db import connections
from django.test import Client, override_settings
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from sustain.accounts.models import Organization, Role, User
from sustain.monitoring import actions, rollups
from sustain.monitoring.models import (
    HistogramSample,
    HourHistogram,
    HourRollup,
    LateMinute,
    MinuteHistogram,
    MinuteRollup,
    RollupCursor,
    Sample,
    Series,
)
from tests.base import SustainTestCase
from tests.concurrency import RaceTestCase

MINUTE, HOUR, DAY = rollups.MINUTE, rollups.HOUR, rollups.DAY
# Two days ago at a whole hour: inside every retention.
H0 = (rollups.now_ms() - 2 * DAY) // HOUR * HOUR


def make_series(org, name="checkout_latency", kind=Series.Kind.GAUGE, **fields):
    # Samples are written straight to the table here: last_sample_at set as ingest sets it.
    return Series.objects.create(
        organization=org,
        name=name,
        key=f"{name}-{kind}-{fields}",
        kind=kind,
        last_sample_at=timezone.now(),
        **fields,
    )


def python_rollup(points: list[tuple[int, float]], width: int) -> dict[int, tuple]:
    groups: dict[int, list[tuple[int, float]]] = {}
    for t, v in sorted(points):
        groups.setdefault(t // width * width, []).append((t, v))
    return {
        start: (len(g), min(v for _, v in g), max(v for _, v in g), sum(v for _, v in g), g[-1][1])
        for start, g in groups.items()
    }


def stored(model, series) -> dict[int, tuple]:
    return {
        t: tuple(rest)
        for t, *rest in model.objects.filter(series=series)
        .order_by("time")
        .values_list("time", "count", "min", "max", "sum", "last")
    }


def approx(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        for x, y in zip(a[k], b[k], strict=True):
            if abs(x - y) > 1e-6 * max(1.0, abs(x), abs(y)):
                return False
    return True


class ArithmeticTests(HypothesisTestCase, SustainTestCase):
    @settings(max_examples=40, deadline=None)
    @given(
        st.dictionaries(
            st.integers(min_value=0, max_value=3 * HOUR - 1),
            st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
            min_size=1,
            max_size=300,
        )
    )
    def test_minutes_and_hours_equal_pythons_count_min_max_sum_last(self, offsets):
        series = make_series(self.acme)
        points = [(H0 + dt, v) for dt, v in offsets.items()]
        Sample.objects.bulk_create([Sample(series=series, time=t, value=v) for t, v in points])
        rollups.roll_minutes(H0, H0 + 3 * HOUR)
        rollups.roll_hours(H0, H0 + 3 * HOUR)
        self.assertTrue(approx(stored(MinuteRollup, series), python_rollup(points, MINUTE)))
        self.assertTrue(approx(stored(HourRollup, series), python_rollup(points, HOUR)))

    @settings(max_examples=40, deadline=None)
    @given(
        st.lists(
            st.lists(st.integers(min_value=0, max_value=50), min_size=4, max_size=4),
            min_size=1,
            max_size=30,
        ),
        st.sampled_from([0.5, 0.95, 0.99]),
    )
    def test_histogram_percentiles_come_from_merged_buckets(self, count_lists, q):
        series = make_series(
            self.acme, "checkout_duration", Series.Kind.HISTOGRAM, temporality="delta"
        )
        bounds = [0.1, 0.5, 1.0]
        HistogramSample.objects.bulk_create(
            HistogramSample(
                series=series,
                time=H0 + i * 97_000,
                count=sum(c),
                sum=float(sum(c)),
                bounds=json.dumps(bounds),
                counts=json.dumps(c),
            )
            for i, c in enumerate(count_lists)
        )
        rollups.roll_minutes(H0, H0 + HOUR)
        rollups.roll_hours(H0, H0 + HOUR)
        merged = [sum(col) for col in zip(*count_lists, strict=True)]
        hour = HourHistogram.objects.get(series=series)
        self.assertEqual(json.loads(hour.counts), merged)
        self.assertEqual(hour.count, sum(merged))
        got, res = rollups.points(series, H0, H0 + HOUR, HOUR, f"p{round(q * 100)}")
        self.assertEqual(res, "hour")
        expected = rollups.quantile(q, bounds, merged)
        self.assertEqual(
            got, [[H0 / 1000, expected]] if expected is not None else [[H0 / 1000, None]]
        )

    def test_quantile_interpolates_linearly_within_the_bucket(self):
        # 10 in (0, 1], 10 in (1, 2]: the median is the first bucket's top, p75 half-way up
        # the second, and a rank in the open bucket gives the last bound, as Prometheus does.
        self.assertEqual(rollups.quantile(0.5, [1.0, 2.0], [10, 10, 0]), 1.0)
        self.assertEqual(rollups.quantile(0.75, [1.0, 2.0], [10, 10, 0]), 1.5)
        self.assertEqual(rollups.quantile(0.99, [1.0, 2.0], [10, 0, 10]), 2.0)
        self.assertIsNone(rollups.quantile(0.5, [1.0], [0, 0]))

    def test_a_cumulative_histogram_is_rolled_from_its_changes(self):
        series = make_series(self.acme, "cumulative_duration", Series.Kind.HISTOGRAM)
        totals = [[1, 0, 0], [3, 1, 0], [3, 5, 2], [0, 1, 0]]  # the last one: a reset
        HistogramSample.objects.bulk_create(
            HistogramSample(
                series=series,
                time=H0 + i * MINUTE,
                count=sum(c),
                sum=None,
                bounds="[1, 2]",
                counts=json.dumps(c),
            )
            for i, c in enumerate(totals)
        )
        rollups.roll_minutes(H0, H0 + HOUR)
        self.assertEqual(
            [
                json.loads(c)
                for c in MinuteHistogram.objects.order_by("time").values_list("counts", flat=True)
            ],
            [[2, 1, 0], [0, 4, 2], [0, 1, 0]],
        )


class IdempotencyAndLateTests(SustainTestCase):
    def setUp(self):
        self.token, self.raw = actions.create_machine_token(self.mia, self.acme, name="otel")

    def send(self, points):
        response = Client().post(
            "/api/v1/metrics/samples",
            json.dumps({"series": [{"name": "queue_depth", "points": points}]}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {self.raw}"},
        )
        self.assertEqual(response.status_code, 200, response.content)

    def test_rolling_again_gives_the_same_rows_and_late_samples_reroll_their_minute(self):
        self.send([[(H0 + i * 10_000) / 1000, float(i)] for i in range(360)])  # an hour
        now = H0 + HOUR + 30_000
        RollupCursor.objects.create(name=rollups.CURSOR, minutes_to=H0, hours_to=H0)
        first = rollups.sweep(now)
        self.assertEqual(first["minutes"], 60)
        self.assertEqual(first["hours"], 1)
        series = Series.objects.get(name="queue_depth")
        before = stored(MinuteRollup, series)
        rollups.roll_minutes(H0, H0 + HOUR)
        rollups.roll_minutes(H0, H0 + HOUR)
        self.assertEqual(stored(MinuteRollup, series), before)
        self.assertEqual(before[H0], (6, 0.0, 5.0, 15.0, 5.0))
        # A late point in the first minute: marked by ingest, rolled again by the next sweep,
        # with its hour.
        self.send([[(H0 + 5_000) / 1000, 100.0]])
        self.assertEqual(list(LateMinute.objects.values_list("time", flat=True)), [H0])
        again = rollups.sweep(now)
        self.assertEqual(again["late"], 1)
        self.assertEqual(stored(MinuteRollup, series)[H0], (7, 0.0, 100.0, 115.0, 5.0))
        self.assertEqual(stored(HourRollup, series)[H0][:4], (361, 0.0, 359.0, 64720.0))
        self.assertFalse(LateMinute.objects.exists())

    def test_retention_deletes_only_what_is_old_and_rolled(self):
        series = make_series(self.acme)
        now = H0 + 2 * DAY
        old, young = now - 8 * DAY, now - 6 * DAY
        Sample.objects.bulk_create(
            [Sample(series=series, time=old + i * 1000, value=1.0) for i in range(7000)]
            + [Sample(series=series, time=young + i, value=2.0) for i in range(10)]
        )
        MinuteRollup.objects.bulk_create(
            MinuteRollup(series=series, time=t, count=1, min=0, max=0, sum=0, last=0)
            for t in (now - 36 * DAY, now - 34 * DAY)
        )
        HourRollup.objects.bulk_create(
            HourRollup(series=series, time=t, count=1, min=0, max=0, sum=0, last=0)
            for t in (now - 401 * DAY, now - 399 * DAY)
        )
        cursor = RollupCursor(name=rollups.CURSOR, minutes_to=now, hours_to=now)
        gone = rollups.retention(now, cursor)
        self.assertEqual(gone, 7002)  # in batches of 5,000
        self.assertEqual(sorted(set(Sample.objects.values_list("value", flat=True))), [2.0])
        self.assertEqual(Sample.objects.count(), 10)
        self.assertEqual(
            list(MinuteRollup.objects.values_list("time", flat=True)), [now - 34 * DAY]
        )
        self.assertEqual(list(HourRollup.objects.values_list("time", flat=True)), [now - 399 * DAY])

    def test_raw_samples_not_yet_rolled_are_kept(self):
        series = make_series(self.acme)
        now = H0 + 2 * DAY
        Sample.objects.create(series=series, time=now - 8 * DAY, value=1.0)
        cursor = RollupCursor(name=rollups.CURSOR, minutes_to=now - 9 * DAY, hours_to=None)
        self.assertEqual(rollups.retention(now, cursor), 0)
        self.assertEqual(Sample.objects.count(), 1)


class RollupEndpointTests(SustainTestCase):
    def setUp(self):
        self.series = make_series(self.acme)
        Sample.objects.bulk_create(
            Sample(series=self.series, time=H0 + i * 10_000, value=float(i % 6))
            for i in range(3 * 360)
        )
        rollups.roll_minutes(H0, H0 + 3 * HOUR)
        rollups.roll_hours(H0, H0 + 3 * HOUR)
        self.url = f"/api/v1/metrics/series/{self.series.pk}/rollup"
        self.start = rollups.iso(H0)
        self.end = rollups.iso(H0 + 3 * HOUR)

    def test_the_step_picks_the_resolution(self):
        alice = self.api(self.alice)
        hourly = alice.get(self.url, start=self.start, end=self.end, step=3600).json()
        self.assertEqual(hourly["resolution"], "hour")
        self.assertEqual(hourly["points"], [[(H0 + h * HOUR) / 1000, 2.5] for h in range(3)])
        last = alice.get(self.url, start=self.start, end=self.end, step=1800, stat="last").json()
        self.assertEqual(last["resolution"], "minute")
        self.assertEqual(len(last["points"]), 6)
        self.assertEqual({v for _, v in last["points"]}, {5.0})
        raw = alice.get(self.url, start=self.start, end=self.end, step=30, stat="max").json()
        self.assertEqual(raw["resolution"], "raw")
        self.assertEqual(raw["points"][:2], [[H0 / 1000, 2.0], [H0 / 1000 + 30, 5.0]])

    def test_bad_query_values_are_named(self):
        alice = self.api(self.alice)
        for params, field in [
            ({"stat": "p95"}, "stat"),
            ({"step": 0}, "step"),
            ({"step": 1, "start": rollups.iso(H0 - 30 * DAY)}, "step"),
            ({"start": self.end, "end": self.start}, "end"),
        ]:
            response = alice.get(self.url, **params)
            self.assertIn(response.status_code, (400, 422), params)
            self.assertIn(field, response.content.decode(), params)

    def test_customers_see_only_their_organizations_series(self):
        self.assertEqual(self.api(self.carol).get(self.url, step=3600).status_code, 200)
        self.assertEqual(self.api(self.dave).get(self.url, step=3600).status_code, 404)


@override_settings(HUEY={"immediate": True})
class TwoWorkersTests(RaceTestCase):
    def test_two_workers_at_once_roll_a_range_once(self):
        org = Organization.objects.create(name="Acme", slug="acme")
        User.objects.create_user(
            "mia@provider.test", None, name="Mia", organization=org, role=Role.MANAGER
        )
        series = make_series(org)
        Sample.objects.bulk_create(
            Sample(series=series, time=H0 + i * 10_000, value=1.0) for i in range(360)
        )
        RollupCursor.objects.create(name=rollups.CURSOR, minutes_to=H0, hours_to=H0)

        def work(_i):
            try:
                return rollups.sweep(H0 + HOUR + 1000)
            finally:
                connections.close_all()

        results = self.at_once(work, threads=4)
        # Whoever holds the lease rolls; a worker coming after it finds nothing left to roll.
        self.assertEqual(sum(r.get("minutes", 0) for r in results), 60, results)
        self.assertEqual(sum(r.get("hours", 0) for r in results), 1, results)
        self.assertIn({"claimed": 0}, results)
        cursor = RollupCursor.objects.get(name=rollups.CURSOR)
        self.assertEqual((cursor.minutes_to, cursor.hours_to), (H0 + HOUR, H0 + HOUR))
        self.assertEqual(MinuteRollup.objects.filter(series=series).count(), 60)
        self.assertEqual(HourRollup.objects.get(series=series).count, 360)
