"""Threshold rules evaluated: one cycle claims the due rules, matches their series, computes
every window value set-based and steps each (rule, series) state machine, raising, updating
and resolving alerts through `alerts.receive`.

Set-based: a cycle's queries do not grow with the number of rules: one claim, one read of the
candidate series (by metric names), one read of the states, one GROUP BY per aggregation kind
(per chunk of CHUNK series, the databases' parameter limits), one bulk write of the states, one
release per distinct interval; only alerts whose level changed cost more.

`window_values()` is the one place that reads samples: raw samples now, rollups later.
Counters' increase adds the differences of consecutive points, a drop (a reset) counting the
new value as the increase; a delta counter's points are increases already. Percentiles merge a
histogram's buckets over the window (a cumulative histogram: the last point less the first,
the last alone across a reset) and interpolate within the bucket; over a gauge they are taken
from the raw values.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Avg, Count, Max, Min, Q, Sum
from django.utils import timezone

from sustain.monitoring import alerts, rule_prometheus
from sustain.monitoring.models import (
    Alert,
    HistogramSample,
    RuleState,
    Sample,
    Series,
    ThresholdRule,
)

CHUNK = 2000  # series per IN (...) list: below SQLite's and PostgreSQL's parameter limits
LEASE = timedelta(minutes=5)
Level = RuleState.Level
RANK: dict[str, int] = {Level.OK: 0, Level.NODATA: 1, Level.WARNING: 2, Level.CRITICAL: 3}
SIMPLE = {"avg": Avg, "min": Min, "max": Max, "sum": Sum, "count": Count}
QUANTILE = {"p50": 0.5, "p95": 0.95, "p99": 0.99}


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


# --- the window's values ----------------------------------------------------------------------
def window_values(
    series_ids: Iterable[int], start_ms: int, end_ms: int, aggregation: str
) -> dict[int, float]:
    """{series id: the aggregation of its points in [start_ms, end_ms)}; series without
    points are left out. One query per chunk of series, whatever the aggregation."""
    ids = sorted(set(series_ids))
    out: dict[int, float] = {}
    for chunk in _chunks(ids):
        if aggregation in SIMPLE:
            out.update(_simple(chunk, start_ms, end_ms, aggregation))
        elif aggregation in ("rate", "increase"):
            for sid, inc in _increase(chunk, start_ms, end_ms).items():
                out[sid] = inc * 1000 / (end_ms - start_ms) if aggregation == "rate" else inc
        elif aggregation in QUANTILE:
            out.update(_quantiles(chunk, start_ms, end_ms, QUANTILE[aggregation]))
        else:
            raise ValueError(f"unknown aggregation {aggregation!r}")
    return out


def _simple(ids: list[int], start: int, end: int, aggregation: str) -> dict[int, float]:
    rows = (
        Sample.objects.filter(series_id__in=ids, time__gte=start, time__lt=end)
        .values("series_id")
        .annotate(v=SIMPLE[aggregation]("value"))
        .values_list("series_id", "v")
    )
    return {sid: float(v) for sid, v in rows if v is not None}


def _increase(ids: list[int], start: int, end: int) -> dict[int, float]:
    """Cumulative counters: the sum of consecutive differences, a reset counting the new value;
    delta counters: the sum of their points. One statement (a window function)."""
    table, series_table = Sample._meta.db_table, Series._meta.db_table
    marks = ",".join(["%s"] * len(ids))
    sql = f"""
        SELECT series_id, SUM(CASE WHEN delta_kind THEN value
                                   WHEN prev IS NULL THEN 0
                                   WHEN value >= prev THEN value - prev
                                   ELSE value END), COUNT(*)
        FROM (SELECT s.series_id, s.value,
                     LAG(s.value) OVER (PARTITION BY s.series_id ORDER BY s.time) AS prev,
                     (se.temporality = 'delta') AS delta_kind
              FROM {table} s JOIN {series_table} se ON se.id = s.series_id
              WHERE s.series_id IN ({marks}) AND s.time >= %s AND s.time < %s) w
        GROUP BY series_id"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ids, start, end])
        return {sid: float(total or 0) for sid, total, _n in cursor.fetchall()}


def _quantiles(ids: list[int], start: int, end: int, q: float) -> dict[int, float]:
    """Histogram series: merged buckets; gauges: their raw values. Two statements."""
    out: dict[int, float] = {}
    points: dict[int, list[tuple[int, list[float], list[int]]]] = defaultdict(list)
    rows = (
        HistogramSample.objects.filter(series_id__in=ids, time__gte=start, time__lt=end)
        .order_by("series_id", "time")
        .values_list("series_id", "time", "bounds", "counts", "series__temporality")
    )
    delta: dict[int, bool] = {}
    for sid, time, bounds, counts, temporality in rows:
        points[sid].append((time, json.loads(bounds), json.loads(counts)))
        delta[sid] = temporality == Series.Temporality.DELTA
    for sid, found in points.items():
        merged = _merged(found, delta[sid])
        if merged is not None:
            out[sid] = merged_quantile(q, *merged)
    values: dict[int, list[float]] = defaultdict(list)
    gauge_ids = [i for i in ids if i not in points]
    if gauge_ids:
        for sid, value in Sample.objects.filter(
            series_id__in=gauge_ids, time__gte=start, time__lt=end
        ).values_list("series_id", "value"):
            values[sid].append(value)
    for sid, found_values in values.items():
        out[sid] = value_quantile(q, found_values)
    return out


def _merged(
    found: list[tuple[int, list[float], list[int]]], delta: bool
) -> tuple[list[float], list[int]] | None:
    bounds = found[-1][1]
    same = [p for p in found if p[1] == bounds]  # points of another layout are left out
    if delta:
        total = [sum(col) for col in zip(*(p[2] for p in same), strict=True)]
    else:
        last, first = same[-1][2], same[0][2]
        total = [a - b for a, b in zip(last, first, strict=True)]
        if len(same) == 1 or any(c < 0 for c in total):  # one point, or a reset: the last
            total = list(last)
    return (bounds, total) if sum(total) > 0 else None


def merged_quantile(q: float, bounds: list[float], counts: list[int]) -> float:
    """The q-quantile of a bucketed distribution, interpolated linearly within its bucket (the
    first from 0, or its bound when negative; the open last one answers the highest bound)."""
    rank, seen = q * sum(counts), 0.0
    for i, count in enumerate(counts):
        if count and seen + count >= rank:
            if i == len(bounds):
                return float(bounds[-1]) if bounds else 0.0
            upper = float(bounds[i])
            lower = float(bounds[i - 1]) if i else min(0.0, upper)
            return lower + (upper - lower) * (rank - seen) / count
        seen += count
    return float(bounds[-1]) if bounds else 0.0


def value_quantile(q: float, values: list[float]) -> float:
    ordered = sorted(values)
    at = q * (len(ordered) - 1)
    low, high = math.floor(at), math.ceil(at)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


# --- matching ---------------------------------------------------------------------------------
def matches(matchers: list[dict[str, str]], labels: dict[str, str]) -> bool:
    """Prometheus' label matchers; an absent label is the empty text; regexes match whole."""
    for m in matchers:
        have = labels.get(m["label"], "")
        op = m["op"]
        if (op == "=" and have != m["value"]) or (op == "!=" and have == m["value"]):
            return False
        if op in ("=~", "!~"):
            hit = re.fullmatch(m["value"], have) is not None
            if hit != (op == "=~"):
                return False
    return True


Matched = dict[int, list[tuple[int, dict[str, Any], int | None]]]


def _matched(rules: list[ThresholdRule]) -> Matched:
    """{rule id: [(series id, labels, last sample ms)]}: one read of every candidate series."""
    wanted = Q()
    for org, names in _by_org(rules).items():
        wanted |= Q(organization_id=org, name__in=sorted(names))
    by_key: dict[tuple[int, str], list[tuple[int, dict[str, Any], int | None]]] = defaultdict(list)
    for sid, org, name, labels, last in Series.objects.filter(wanted).values_list(
        "id", "organization_id", "name", "labels", "last_sample_at"
    ):
        by_key[(org, name)].append((sid, labels, int(last.timestamp() * 1000) if last else None))
    index: dict[tuple[int, str, str], dict[str, list[Any]]] = {}

    def candidates(rule: ThresholdRule) -> list[tuple[int, dict[str, Any], int | None]]:
        """The series of the rule's metric, narrowed by its first equality matcher through a
        label index (built once per metric and label): 10,000 rules do not scan every series."""
        key = (rule.organization_id, rule.metric)
        first = next((m for m in rule.matchers if m["op"] == "=" and m["value"]), None)
        if first is None:
            return by_key[key]
        where = (*key, first["label"])
        if where not in index:
            built: dict[str, list[Any]] = defaultdict(list)
            for found in by_key[key]:
                built[str(found[1].get(first["label"], ""))].append(found)
            index[where] = built
        return index[where].get(first["value"], [])

    return {
        rule.pk: [s for s in candidates(rule) if matches(rule.matchers, s[1])] for rule in rules
    }


def _by_org(rules: list[ThresholdRule]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = defaultdict(set)
    for rule in rules:
        out[rule.organization_id].add(rule.metric)
    return out


# --- the state machine ------------------------------------------------------------------------
def _breach(rule: ThresholdRule, value: float, threshold: float | None) -> bool:
    if threshold is None:
        return False
    return value > threshold if rule.comparison == "above" else value < threshold


def _recovered(rule: ThresholdRule, value: float, threshold: float | None) -> bool:
    """Past the recovery threshold, on the safe side (a missing one: the threshold itself)."""
    if threshold is None:
        return True
    return value <= threshold if rule.comparison == "above" else value >= threshold


def target_level(rule: ThresholdRule, level: str, value: float) -> str:
    """The level `value` calls for, from `level`: a firing level holds until recovered."""
    if _breach(rule, value, rule.critical):
        return Level.CRITICAL
    crit_back = rule.critical if rule.critical_recovery is None else rule.critical_recovery
    if level == Level.CRITICAL and not _recovered(rule, value, crit_back):
        return Level.CRITICAL
    if _breach(rule, value, rule.warning):
        return Level.WARNING
    warn_back = rule.warning if rule.warning_recovery is None else rule.warning_recovery
    if (
        level in (Level.CRITICAL, Level.WARNING)
        and rule.warning is not None
        and not _recovered(rule, value, warn_back)
    ):
        return Level.WARNING
    return Level.OK


def step(rule: ThresholdRule, state: RuleState, value: float | None, now: datetime) -> bool:
    """Advance one state to `now` with the window's `value` (None: no points); True when it
    changed (level, pending or kept), the only states a cycle writes. `last_data_at` is the
    series' last sample (or when the state was made, if later): set by the cycle."""
    before = (state.level, state.pending_since, state.keep_until)
    if value is None:
        silent = state.last_data_at is None or now - state.last_data_at >= timedelta(
            seconds=rule.no_data_after_seconds
        )
        state.pending_since = state.keep_until = None
        if silent and rule.no_data != ThresholdRule.NoData.KEEP:
            state.level = Level.NODATA if rule.no_data == ThresholdRule.NoData.ALERT else Level.OK
    else:
        current = Level.OK if state.level == Level.NODATA else state.level
        wanted = target_level(rule, current, value)
        if state.level == Level.NODATA and wanted == Level.OK:
            state.level = Level.OK  # data again: no-data clears at once
        elif RANK[wanted] > RANK[current]:
            state.keep_until = None
            state.pending_since = state.pending_since or now
            if now - state.pending_since >= timedelta(seconds=rule.for_seconds):
                state.level, state.pending_since = wanted, None
        elif RANK[wanted] < RANK[current]:
            state.pending_since = None
            state.keep_until = state.keep_until or now + timedelta(
                seconds=rule.keep_firing_for_seconds
            )
            if now >= state.keep_until:
                state.level, state.keep_until = wanted, None
        else:
            state.pending_since = state.keep_until = None
            if state.level == Level.NODATA:
                state.level = wanted
    if (state.level, state.pending_since, state.keep_until) == before:
        return False
    state.value, state.last_evaluated = value, now
    if state.level != before[0]:
        state.changed_at = now
    return True


WRITTEN = [
    "level",
    "pending_since",
    "keep_until",
    "value",
    "last_data_at",
    "last_evaluated",
    "changed_at",
]


def _latest(made: datetime, last_ms: int | None) -> datetime:
    if last_ms is None:
        return made
    return max(made, datetime.fromtimestamp(last_ms / 1000, tz=made.tzinfo))


# --- the cycle --------------------------------------------------------------------------------
def claim(now: datetime, limit: int = 100_000) -> tuple[str, list[ThresholdRule]]:
    """Lease the due rules for this worker: one conditional UPDATE, then read back its own."""
    lease = uuid.uuid4().hex
    due = ThresholdRule.objects.filter(next_eval_at__lte=now, paused=False).filter(
        Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    )
    ids = list(due.order_by("next_eval_at").values_list("id", flat=True)[:limit])
    if not ids:
        return lease, []
    claimed = 0
    for chunk in _chunks(ids):
        claimed += (
            ThresholdRule.objects.filter(pk__in=chunk, next_eval_at__lte=now, paused=False)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .update(lease=lease, leased_until=now + LEASE)
        )
    if not claimed:
        return lease, []
    rules = list(ThresholdRule.objects.filter(lease=lease).select_related("source"))
    return lease, rules


def run_cycle(now: datetime | None = None) -> int:
    """Evaluate every due rule once; the number of rules evaluated."""
    now = now or timezone.now()
    lease, rules = claim(now)
    promql, rules = rule_prometheus.split(rules)  # a Prometheus server's rules: its own module
    done = rule_prometheus.run(lease, promql, now)
    if not rules:
        return done
    matched = _matched(rules)
    end_ms = int(now.timestamp() * 1000)
    wanted: dict[tuple[str, int], set[int]] = defaultdict(set)
    for rule in rules:
        wanted[(rule.aggregation, rule.window_seconds)].update(s[0] for s in matched[rule.pk])
    values = {
        key: window_values(ids, end_ms - key[1] * 1000, end_ms, key[0])
        for key, ids in wanted.items()
    }
    states = _states(rules, matched, now)
    changed: list[tuple[ThresholdRule, RuleState, dict[str, Any]]] = []
    dirty: list[RuleState] = []
    labels_of = {sid: labels for found in matched.values() for sid, labels, _ms in found}
    last_ms = {sid: ms for found in matched.values() for sid, _labels, ms in found}
    by_id = {rule.pk: rule for rule in rules}
    for state in states:
        rule = by_id[state.rule_id]
        value = values[(rule.aggregation, rule.window_seconds)].get(state.series_id)
        level = state.level
        state.last_data_at = _latest(state.changed_at, last_ms.get(state.series_id))
        if step(rule, state, value, now):
            dirty.append(state)
            if state.level != level:
                changed.append((rule, state, labels_of.get(state.series_id, {})))
    with transaction.atomic():
        RuleState.objects.bulk_update(dirty, WRITTEN, batch_size=CHUNK)
        _release(lease, rules, now)
    for rule, state, labels in changed:
        signal(rule, state, labels, now)
    return done + len(rules)


def _states(rules: list[ThresholdRule], matched: Matched, now: datetime) -> list[RuleState]:
    """The states of every (rule, matched series): read once; the missing ones made in bulk."""
    ids = [rule.pk for rule in rules]
    have: dict[tuple[int, int], RuleState] = {}
    for chunk in _chunks(ids):
        for state in RuleState.objects.filter(rule_id__in=chunk):
            have[(state.rule_id, state.series_id)] = state
    new = [
        RuleState(rule_id=rule.pk, series_id=sid, changed_at=now)
        for rule in rules
        for sid, _labels, _ms in matched[rule.pk]
        if (rule.pk, sid) not in have
    ]
    if new:
        RuleState.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        for chunk in _chunks(sorted({s.rule_id for s in new})):
            for state in RuleState.objects.filter(rule_id__in=chunk):
                have.setdefault((state.rule_id, state.series_id), state)
    live = {(rule.pk, s[0]) for rule in rules for s in matched[rule.pk]}
    return [state for key, state in have.items() if key in live]


def _release(lease: str, rules: list[ThresholdRule], now: datetime) -> None:
    """The lease let go and the next evaluation set: one UPDATE per distinct interval."""
    for interval in sorted({rule.interval_seconds for rule in rules}):
        ThresholdRule.objects.filter(lease=lease, interval_seconds=interval).update(
            lease="",
            leased_until=None,
            last_evaluated_at=now,
            next_eval_at=now + timedelta(seconds=interval),
        )


# --- the alerts -------------------------------------------------------------------------------
def fingerprint(series_id: int) -> str:
    return f"series-{series_id}"


def signal(rule: ThresholdRule, state: RuleState, labels: dict[str, Any], now: datetime) -> None:
    """A level change told to the alerts' door: firing (severity by level) or resolved."""
    firing = state.level != Level.OK
    severity = "critical" if state.level == Level.CRITICAL else "warning"
    shown = "no data" if state.value is None else f"{rule.aggregation} {state.value:g}"
    what = " ".join(f"{k}={v}" for k, v in sorted(labels.items()))[:150]
    alerts.receive(
        rule.source,
        alerts.Signal(
            fingerprint=getattr(state, "key", "") or fingerprint(state.series_id),
            state=Alert.State.FIRING if firing else Alert.State.RESOLVED,
            name=f"{rule.name}: {rule.metric}{{{what}}}"[:300],
            starts_at=now,
            ends_at=None if firing else now,
            severity=severity if firing else "",
            labels={
                "rule": rule.name,
                "metric": rule.metric,
                **{k: str(v)[:200] for k, v in labels.items()},
            },
            annotations={"summary": f"{rule.name}: {state.level} ({shown})"[:500]},
        ),
        now,
    )
