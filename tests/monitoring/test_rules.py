"""Threshold rules over real samples: a gauge above critical for the for-duration opens one
incident; hysteresis and keep-firing-for hold it; no-data states; counters' rate and increase
across a reset; p95 from histogram buckets; a cycle's query count does not grow with the
number of rules. Every cycle runs at a `now` the test chooses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sustain.core.errors import Invalid
from sustain.desk.models import Status, Ticket
from sustain.monitoring import rule_eval, rules
from sustain.monitoring.models import (
    Alert,
    HistogramSample,
    RuleState,
    Sample,
    Series,
    ThresholdRule,
)
from sustain.monitoring.series import series_key
from tests.base import SustainTestCase

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
MS0 = int(T0.timestamp() * 1000)
Level = RuleState.Level


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


class RuleTestCase(SustainTestCase):
    def series(self, name="cpu", kind="gauge", temporality="cumulative", org=None, **labels):
        org = org or self.acme
        return Series.objects.create(
            organization=org,
            name=name,
            labels=labels,
            key=series_key(None, name, labels),
            kind=kind,
            temporality=temporality,
        )

    def points(self, series, start: int, end: int, value, step: int = 15):
        """Samples every `step` seconds in [start, end): value(t) or a constant."""
        Sample.objects.bulk_create(
            Sample(
                series=series,
                time=MS0 + t * 1000,
                value=value(t) if callable(value) else value,
            )
            for t in range(start, end, step)
        )
        last = at(max(range(start, end, step)))
        if series.last_sample_at is None or series.last_sample_at < last:
            series.last_sample_at = last
            series.save(update_fields=["last_sample_at"])

    def rule(self, **settings) -> ThresholdRule:
        settings.setdefault("name", "cpu high")
        settings.setdefault("metric", "cpu")
        return rules.create_rule(self.mia, self.acme, now=at(0), **settings)

    def cycle(self, seconds: int) -> int:
        return rule_eval.run_cycle(now=at(seconds))

    def state(self, rule) -> RuleState:
        return RuleState.objects.get(rule=rule)


class ThresholdTests(RuleTestCase):
    def test_critical_for_the_duration_opens_one_incident_hysteresis_then_recovery(self):
        host = self.series(host="web1")
        rule = self.rule(critical=90, critical_recovery=70, for_seconds=120, window_seconds=60)
        self.points(host, -60, 200, 95)
        self.assertEqual(self.cycle(0), 1)
        self.assertEqual(self.state(rule).level, Level.OK)  # pending, not firing
        self.assertIsNotNone(self.state(rule).pending_since)
        self.cycle(60)
        self.assertFalse(Alert.objects.exists())
        self.cycle(120)  # 120 s over: firing
        self.assertEqual(self.state(rule).level, Level.CRITICAL)
        alert = Alert.objects.get(source=rule.source)
        self.assertEqual((alert.state, alert.severity), (Alert.State.FIRING, "critical"))
        self.assertEqual(alert.fingerprint, f"series-{host.pk}")
        self.assertEqual(alert.ticket.organization, self.acme)
        self.cycle(180)
        self.assertEqual(Ticket.objects.filter(alerts__source=rule.source).count(), 1)

        self.points(host, 200, 400, 80)  # under 90 but above the recovery threshold 70
        self.cycle(300)
        self.assertEqual(self.state(rule).level, Level.CRITICAL)
        alert.refresh_from_db()
        self.assertEqual(alert.state, Alert.State.FIRING)

        self.points(host, 400, 500, 60)  # past the recovery threshold: resolved
        self.cycle(480)
        self.assertEqual(self.state(rule).level, Level.OK)
        alert.refresh_from_db()
        self.assertEqual(alert.state, Alert.State.RESOLVED)
        self.assertEqual(alert.ticket.status, Status.RESOLVED)
        self.assertEqual(Ticket.objects.filter(alerts__source=rule.source).count(), 1)

    def test_warning_escalates_to_critical_on_the_same_alert(self):
        host = self.series(host="web1")
        rule = self.rule(warning=70, critical=90, window_seconds=60)
        self.points(host, -60, 60, 75)
        self.cycle(0)
        alert = Alert.objects.get(source=rule.source)
        self.assertEqual(alert.severity, "warning")
        self.points(host, 60, 120, 95)
        self.cycle(120)
        alert.refresh_from_db()
        self.assertEqual((alert.state, alert.severity), (Alert.State.FIRING, "critical"))
        self.assertEqual(Ticket.objects.filter(alerts__source=rule.source).count(), 1)

    def test_keep_firing_for_holds_a_cleared_level(self):
        host = self.series(host="web1")
        rule = self.rule(critical=90, keep_firing_for_seconds=120, window_seconds=60)
        self.points(host, -60, 60, 95)
        self.cycle(0)
        self.assertEqual(self.state(rule).level, Level.CRITICAL)
        self.points(host, 60, 400, 10)
        self.cycle(120)  # clear, but kept for 120 s
        self.assertEqual(self.state(rule).level, Level.CRITICAL)
        self.cycle(180)
        self.assertEqual(self.state(rule).level, Level.CRITICAL)
        self.cycle(240)
        self.assertEqual(self.state(rule).level, Level.OK)
        self.assertEqual(Alert.objects.get(source=rule.source).state, Alert.State.RESOLVED)

    def test_below_comparison_and_matchers(self):
        web = self.series(name="disk_free", host="web1", env="prod")
        db = self.series(name="disk_free", host="db1", env="prod")
        test = self.series(name="disk_free", host="web9", env="test")
        other = self.series(name="disk_free", org=self.globex, host="web1", env="prod")
        for s in (web, db, test, other):
            self.points(s, -60, 60, 5)
        rule = self.rule(
            name="disk low",
            metric="disk_free",
            comparison="below",
            critical=10,
            window_seconds=60,
            matchers=[
                {"label": "env", "op": "=", "value": "prod"},
                {"label": "host", "op": "=~", "value": "web.*"},
            ],
        )
        self.cycle(0)
        self.assertEqual(
            list(RuleState.objects.filter(rule=rule).values_list("series_id", "level")),
            [(web.pk, Level.CRITICAL)],
        )


class NoDataTests(RuleTestCase):
    def test_no_data_alert_ok_and_keep(self):
        modes = {}
        for mode in ("alert", "ok", "keep"):
            s = self.series(host=mode)
            self.points(s, -60, 60, 95)
            modes[mode] = self.rule(
                name=f"cpu {mode}",
                critical=90,
                window_seconds=60,
                no_data=mode,
                no_data_after_seconds=300,
                matchers=[{"label": "host", "op": "=", "value": mode}],
            )
        self.cycle(0)
        for rule in modes.values():
            self.assertEqual(self.state(rule).level, Level.CRITICAL)
        self.cycle(180)  # silent, but not for 300 s yet
        for rule in modes.values():
            self.assertEqual(self.state(rule).level, Level.CRITICAL)
        self.cycle(360)  # the last sample was at 45 s: silent for 315 s
        self.assertEqual(self.state(modes["alert"]).level, Level.NODATA)
        self.assertEqual(self.state(modes["ok"]).level, Level.OK)
        self.assertEqual(self.state(modes["keep"]).level, Level.CRITICAL)
        nodata = Alert.objects.get(source=modes["alert"].source)
        self.assertEqual((nodata.state, nodata.severity), (Alert.State.FIRING, "warning"))
        self.assertEqual(Alert.objects.get(source=modes["ok"].source).state, Alert.State.RESOLVED)


class AggregationTests(RuleTestCase):
    def test_increase_and_rate_across_a_counter_reset(self):
        c = self.series(name="requests", kind="counter")
        # 100, 110, 120, then a restart: 5, 15 -> increase 10 + 10 + 5 + 10 = 35
        for t, v in zip(range(0, 75, 15), (100, 110, 120, 5, 15), strict=True):
            Sample.objects.create(series=c, time=MS0 + t * 1000, value=v)
        end = MS0 + 100_000
        self.assertEqual(rule_eval.window_values([c.pk], MS0, end, "increase"), {c.pk: 35.0})
        self.assertAlmostEqual(rule_eval.window_values([c.pk], MS0, end, "rate")[c.pk], 0.35)
        d = self.series(name="requests", kind="counter", temporality="delta", x="1")
        self.points(d, 0, 60, 4)
        self.assertEqual(rule_eval.window_values([d.pk], MS0, end, "increase"), {d.pk: 16.0})

    def test_p95_from_histogram_buckets_merged_over_the_window(self):
        h = self.series(name="latency", kind="histogram")
        bounds = [0.1, 0.5, 1.0]
        # cumulative: first point, then 100 more observations: 80 <= 0.1, 10 <= 0.5, 10 <= 1
        for t, counts in ((0, [10, 0, 0, 0]), (30, [90, 10, 10, 0])):
            HistogramSample.objects.create(
                series=h,
                time=MS0 + t * 1000,
                count=sum(counts),
                bounds=json.dumps(bounds),
                counts=json.dumps(counts),
            )
        got = rule_eval.window_values([h.pk], MS0, MS0 + 60_000, "p95")[h.pk]
        self.assertAlmostEqual(got, 0.5 + 0.5 * 0.5)  # rank 95 of 100: halfway into (0.5, 1]
        g = self.series(name="latency_gauge")
        self.points(g, 0, 100, lambda t: t / 10, step=1)  # 0.0 .. 9.9
        self.assertAlmostEqual(
            rule_eval.window_values([g.pk], MS0, MS0 + 100_000, "p50")[g.pk], 4.95
        )

    def test_a_cycles_queries_do_not_grow_with_the_number_of_rules(self):
        def count(n: int) -> int:
            for i in range(n):
                s = self.series(name=f"m{n}", host=f"h{i}")
                self.points(s, -60, 0, 50)
                self.rule(name=f"r{n}-{i}", metric=f"m{n}", critical=90, window_seconds=60)
            self.assertEqual(self.cycle(0), n)  # the states are made
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(self.cycle(60), n)
            ThresholdRule.objects.update(next_eval_at=None)
            return len(queries)

        self.assertEqual(count(3), count(30))
        self.assertLessEqual(count(5), 9)  # claim 2, rules, series, samples, states, release 3


class ValidationTests(RuleTestCase):
    def test_bad_settings_are_refused_naming_the_field(self):
        cases = {
            "critical_recovery": {"critical": 90, "critical_recovery": 95},
            "warning": {"warning": 95, "critical": 90},
            "for_seconds": {"critical": 1, "for_seconds": 86401},
            "window_seconds": {"critical": 1, "window_seconds": 30},
            "matchers": {"critical": 1, "matchers": [{"label": "a", "op": "=~", "value": "("}]},
            "aggregation": {"critical": 1, "aggregation": "median"},
            "colour": {"critical": 1, "colour": "red"},
        }
        for field, settings in cases.items():
            with self.subTest(field), self.assertRaises(Invalid) as caught:
                self.rule(**settings)
            self.assertEqual(caught.exception.errors[0]["field"], field)
        self.assertFalse(ThresholdRule.objects.exists())
        below = self.rule(comparison="below", critical=10, critical_recovery=20)
        self.assertEqual(below.critical_recovery, 20)

    def test_pause_resolves_firing_alerts_and_stops_evaluation(self):
        host = self.series(host="web1")
        rule = self.rule(critical=90, window_seconds=60)
        self.points(host, -60, 600, 95)
        self.cycle(0)
        rules.pause_rule(self.mia, rule, now=at(30))
        self.assertEqual(Alert.objects.get(source=rule.source).state, Alert.State.RESOLVED)
        self.assertEqual(self.cycle(120), 0)
        rules.resume_rule(self.mia, rule, now=at(130))
        self.assertEqual(self.cycle(180), 1)
        self.assertEqual(Alert.objects.get(source=rule.source).state, Alert.State.FIRING)


class RuleApiTests(RuleTestCase):
    URL = "/api/v1/monitoring/rules"

    def test_managers_make_rules_customers_read_their_own_states(self):
        body = {
            "organization": "acme",
            "name": "cpu high",
            "metric": "cpu",
            "matchers": [{"label": "host", "op": "=", "value": "web1"}],
            "critical": 90,
            "window_seconds": 60,
        }
        self.assertEqual(self.api(self.carol).post(self.URL, body).status_code, 403)
        bad = self.api(self.mia).post(self.URL, {**body, "critical_recovery": 99})
        self.assertEqual(bad.status_code, 422)
        self.assertEqual(bad.json()["errors"][0]["field"], "critical_recovery")
        extra = self.api(self.mia).post(self.URL, {**body, "colour": "red"})
        self.assertEqual(extra.status_code, 422)
        made = self.api(self.mia).post(self.URL, body)
        self.assertEqual(made.status_code, 201, made.content)
        rule_id = made.json()["id"]
        host = self.series(host="web1")
        self.points(host, -60, 0, 95)
        ThresholdRule.objects.update(next_eval_at=at(0))  # made now: due at the test's time
        self.cycle(0)
        states = self.api(self.carol).get(f"{self.URL}/{rule_id}/states").json()["results"]
        self.assertEqual([(s["series"], s["level"]) for s in states], [(host.pk, "critical")])
        self.assertEqual(self.api(self.dave).get(f"{self.URL}/{rule_id}").status_code, 404)
        paused = self.api(self.mia).post(f"{self.URL}/{rule_id}/pause")
        self.assertTrue(paused.json()["paused"])
        self.assertEqual(Alert.objects.get().state, Alert.State.RESOLVED)
        self.assertEqual(self.api(self.mia).delete(f"{self.URL}/{rule_id}").status_code, 204)
        self.assertFalse(ThresholdRule.objects.exists())
