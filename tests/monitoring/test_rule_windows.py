"""Rules' window values read from the 1-minute rollups (plus the raw head and unrolled tail)
equal the values from raw samples alone, for every aggregation, over a gauge, a cumulative
counter with a reset, a delta counter, a cumulative histogram with a reset and a delta
histogram; the rolled minutes' raw samples deleted afterwards change nothing (the rollups are
what is read); a late sample in a rolled minute is seen; a series added to a metric is
matched at the next cycle; a cycle's queries do not grow with the number of rules."""

from __future__ import annotations

import itertools
import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sustain.monitoring import rollups, rule_eval
from sustain.monitoring.models import (
    HistogramSample,
    MinuteRollup,
    RollupCursor,
    RuleState,
    Sample,
    Series,
    ThresholdRule,
)
from tests.monitoring.test_rules import MS0, RuleTestCase, at

MIN = 60_000
AGGREGATIONS = ["avg", "min", "max", "sum", "count", "increase", "rate", "p50", "p95", "p99"]
BOUNDS = [0.1, 0.5, 1.0, 5.0]


class RollupWindowTests(RuleTestCase):
    def setUp(self):
        super().setUp()
        self.gauge = self.series(name="temp")
        self.counter = self.series(name="requests", kind="counter")
        self.delta = self.series(name="requests", kind="counter", temporality="delta", d="1")
        self.hist = self.series(name="latency", kind="histogram")
        self.dhist = self.series(name="latency", kind="histogram", temporality="delta", d="1")
        self.ids = [s.pk for s in (self.gauge, self.counter, self.delta, self.hist, self.dhist)]
        total, cum = 0.0, [0, 0, 0, 0, 0]
        for k, t in enumerate(range(-600_000, 60_000, 7_000)):  # every 7 s: unaligned
            ms = MS0 + t
            total = 3.0 if k == 50 else total + (k % 5) + 0.5  # a restart at the 50th point
            if k == 60:
                cum = [0, 0, 0, 0, 0]  # the histogram's process restarts too
            cum = [c + ((k + i) % 3) for i, c in enumerate(cum)]
            step = [(k + i) % 4 for i in range(5)]
            Sample.objects.bulk_create(
                [
                    Sample(series=self.gauge, time=ms, value=20 + (k * 37 % 11) - 0.25 * k),
                    Sample(series=self.counter, time=ms, value=total),
                    Sample(series=self.delta, time=ms, value=float(k % 3)),
                ]
            )
            for series, counts in ((self.hist, cum), (self.dhist, step)):
                HistogramSample.objects.create(
                    series=series,
                    time=ms,
                    count=sum(counts),
                    sum=float(k),
                    bounds=json.dumps(BOUNDS),
                    counts=json.dumps(counts),
                )
        Series.objects.update(last_sample_at=at(60))  # as ingest keeps it: the sweep reads it
        rollups.roll_minutes(MS0 - 600_000, MS0)  # the minutes before MS0 rolled, as a sweep

    def compare(self, start: int, end: int, covered: int = MS0) -> dict[str, dict]:
        out = {}
        for aggregation in AGGREGATIONS:
            raw = rule_eval.window_values(self.ids, start, end, aggregation, covered=0)
            rolled = rule_eval.window_values(self.ids, start, end, aggregation, covered=covered)
            with self.subTest(aggregation, start=start, end=end):
                self.assertEqual(sorted(raw), sorted(rolled))
                for sid, value in raw.items():
                    self.assertAlmostEqual(rolled[sid], value, places=9, msg=(aggregation, sid))
            out[aggregation] = raw
        return out

    def test_rollup_based_values_equal_the_raw_ones(self):
        raw = self.compare(MS0 - 300_000 + 13_000, MS0 + 20_000)  # neither end aligned
        self.compare(MS0 - 300_000, MS0)  # both aligned: all from rollups (+ the 1st minute)
        self.compare(MS0 - 240_000 + 59_000, MS0 - 1_000, covered=MS0 - 120_000)  # job behind
        # The raw answers themselves, computed here from the points in the window.
        start, end = MS0 - 300_000 + 13_000, MS0 + 20_000
        points = list(
            Sample.objects.filter(series=self.counter, time__gte=start, time__lt=end)
            .order_by("time")
            .values_list("value", flat=True)
        )
        increase = sum(b - a if b >= a else b for a, b in itertools.pairwise(points))
        self.assertTrue(any(b < a for a, b in itertools.pairwise(points)))  # a reset
        self.assertAlmostEqual(raw["increase"][self.counter.pk], increase)
        self.assertAlmostEqual(raw["rate"][self.counter.pk], increase * 1000 / (end - start))
        self.assertEqual(raw["count"][self.gauge.pk], len(points))
        deltas = Sample.objects.filter(series=self.delta, time__gte=start, time__lt=end)
        self.assertEqual(raw["increase"][self.delta.pk], sum(d.value for d in deltas))
        merged = [0] * (len(BOUNDS) + 1)
        for h in HistogramSample.objects.filter(series=self.dhist, time__gte=start, time__lt=end):
            merged = [a + b for a, b in zip(merged, json.loads(h.counts), strict=True)]
        p95 = rule_eval.merged_quantile(0.95, BOUNDS, merged)
        self.assertAlmostEqual(raw["p95"][self.dhist.pk], p95)  # merged buckets, not averaged

    def test_the_rolled_minutes_are_read_from_the_rollups(self):
        start, end = MS0 - 300_000 + 13_000, MS0 + 20_000
        before = {a: rule_eval.window_values(self.ids, start, end, a) for a in AGGREGATIONS}
        self.assertFalse(RollupCursor.objects.exists())  # no cursor: all raw so far
        RollupCursor.objects.create(name=rollups.CURSOR, minutes_to=MS0)
        # The raw samples of the minutes read from rollups gone: the same answers.
        middle = (start // MIN + 1) * MIN, MS0 - MIN
        Sample.objects.filter(
            series_id__in=self.ids, time__gte=middle[0], time__lt=middle[1]
        ).delete()
        HistogramSample.objects.filter(
            series_id__in=self.ids, time__gte=middle[0], time__lt=middle[1]
        ).delete()
        for aggregation in AGGREGATIONS:
            if aggregation.startswith("p"):  # but a gauge's or counter's are of raw values
                for sid in (self.gauge.pk, self.counter.pk, self.delta.pk):
                    before[aggregation].pop(sid)
            got = rule_eval.window_values(self.ids, start, end, aggregation)
            for sid, value in before[aggregation].items():
                self.assertAlmostEqual(got[sid], value, places=9, msg=(aggregation, sid))

    def test_a_late_sample_in_a_rolled_minute_is_seen_before_the_next_sweep(self):
        RollupCursor.objects.create(name=rollups.CURSOR, minutes_to=MS0)
        start, end = MS0 - 300_000, MS0
        count = rule_eval.window_values([self.gauge.pk], start, end, "count")[self.gauge.pk]
        late = MS0 - 200_000 + 1
        Sample.objects.create(series=self.gauge, time=late, value=1000.0)
        rollups.mark_late([(self.gauge.pk, late)])
        values = rule_eval.window_values([self.gauge.pk], start, end, "count")
        self.assertEqual(values[self.gauge.pk], count + 1)
        self.assertEqual(
            rule_eval.window_values([self.gauge.pk], start, end, "max"), {self.gauge.pk: 1000.0}
        )

    def test_rows_rolled_before_first_and_increase_existed_are_read_raw(self):
        end = MS0
        want = rule_eval.window_values([self.counter.pk], end - 300_000, end, "increase", covered=0)
        MinuteRollup.objects.filter(series=self.counter).update(first=None, increase=None)
        got = rule_eval.window_values(
            [self.counter.pk], end - 300_000, end, "increase", covered=end
        )
        self.assertAlmostEqual(got[self.counter.pk], want[self.counter.pk])


class RuleCycleTests(RuleTestCase):
    def test_a_series_added_to_a_metric_is_matched_at_the_next_cycle(self):
        web1 = self.series(host="web1", tier="web")
        self.points(web1, -60, 0, 95)
        rule = self.rule(
            critical=90, window_seconds=60, matchers=[{"label": "tier", "op": "=", "value": "web"}]
        )
        self.cycle(0)
        web2 = self.series(host="web2", tier="web")
        self.points(web2, 0, 60, 95)
        self.series(host="db1", tier="db")
        self.cycle(60)
        states = RuleState.objects.filter(rule=rule).values_list("series_id", flat=True)
        self.assertEqual(sorted(states), [web1.pk, web2.pk])
        web1.delete()
        self.points(web2, 60, 120, 50)
        self.cycle(120)
        self.assertEqual(
            list(RuleState.objects.filter(rule=rule).values_list("series_id", "level")),
            [(web2.pk, "ok")],
        )

    def test_queries_per_cycle_do_not_grow_with_rules_over_rollups(self):
        """Rules of several aggregations over rolled minutes: the same number of queries for
        4 and for 40 rules per aggregation, states changing or not."""

        def count(n: int, start: int) -> int:
            for i in range(n):
                s = self.series(name=f"m{n}", host=f"h{i}")
                value = 95 if i % 2 else 50
                self.points(s, start - 400, start + 60, value)
                for aggregation in ("avg", "max", "increase"):
                    self.rule(
                        name=f"r{n}-{i}-{aggregation}",
                        metric=f"m{n}",
                        critical=90,
                        aggregation=aggregation,
                        window_seconds=300,
                    )
            rollups.roll_minutes(MS0 + (start - 400) * 1000, MS0 + start * 1000)
            RollupCursor.objects.update_or_create(
                name=rollups.CURSOR, defaults={"minutes_to": MS0 + start * 1000}
            )
            ThresholdRule.objects.filter(metric=f"m{n}").update(next_eval_at=at(start))
            self.assertEqual(rule_eval.run_cycle(now=at(start)), 3 * n)  # the states are made
            ThresholdRule.objects.filter(metric=f"m{n}").update(next_eval_at=at(start + 30))
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(rule_eval.run_cycle(now=at(start + 30)), 3 * n)
            ThresholdRule.objects.update(next_eval_at=None)
            return len(queries)

        self.assertEqual(count(4, 0), count(40, 1000))
