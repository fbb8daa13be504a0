"""Threshold rules' window values, read from the 1-minute rollups for the window's complete
minutes the rollup job has covered and from raw samples for the rest (the part of a minute at
the window's start, and the tail the job has not rolled yet), so a rule sees fresh data and
reads about one row a minute rather than every sample.

The answer equals the one from raw samples alone (tests/monitoring/test_rule_windows.py):

- avg, min, max, sum, count: the rollups' count, min, max and sum folded with the raw points.
- increase and rate: a counter's increase adds the differences of consecutive points, a drop
  (a reset) counting the new value, the window's first point a baseline. A minute rollup keeps
  its first value and its own increase, so the window's is the minutes' increases plus the
  step from each one's last value to the next one's first (the same reset rule), in one
  statement (LAG over the union). A delta counter's points are increases already: their sum.
- p50/p95/p99 of a histogram: from merged buckets, never averaged percentiles. Each point
  after the first counts what changed since the point before (a reset, or new bounds, counts
  the point itself); a delta histogram's points are changes already; those with the last
  point's bounds are summed. A minute histogram rollup holds exactly its points' changes, so
  the window reads raw the part of its first minute (a baseline inside the window) and the
  last rolled minute's raw points as the tail's baseline; a series without those (sparse,
  or born in the window) is read raw. Over a gauge percentiles come from the raw values.

Minutes marked late (LateMinute: samples arrived after they were rolled, re-rolled at the
next sweep) are not trusted: those series are read raw; so are rollup rows made before the
first and increase columns existed. Series ids go to the database as one parameter (JSON on
SQLite, an array on PostgreSQL), CHUNK at a time.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection

from sustain.monitoring.models import (
    HistogramSample,
    LateMinute,
    MinuteHistogram,
    MinuteRollup,
    RollupCursor,
    Sample,
    Series,
)
from sustain.monitoring.rollups import CURSOR, MINUTE

CHUNK = 50_000  # series per statement (one parameter, whatever the number)
SIMPLE = ("avg", "min", "max", "sum", "count")
QUANTILE = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
Points = list[tuple[list[float], list[int]]]


def covered_to() -> int:
    """Up to where (ms) the rollup job has rolled complete minutes; 0 before its first run.
    Its cursor moves only after the minutes' rows are committed."""
    found = RollupCursor.objects.filter(name=CURSOR).values_list("minutes_to", flat=True).first()
    return int(found or 0)


def ids_in(ids: list[int]) -> tuple[str, Any]:
    """`series_id IN (…)` of many ids as one parameter."""
    if connection.vendor == "postgresql":  # an array literal: no per-element adaptation
        return "= ANY(%s::bigint[])", "{" + ",".join(map(str, ids)) + "}"
    return "IN (SELECT value FROM json_each(%s))", json.dumps(ids)


def _ids_where(ids: list[int], model, where: str, params: list[Any], column: str) -> set[int]:
    """The `column` values of `model`'s rows of these series matching `where` (one query)."""
    ins, param = ids_in(ids)
    sql = f"SELECT DISTINCT {column} FROM {model._meta.db_table} WHERE {column} {ins} AND {where}"
    return {row[0] for row in _run(sql, [param, *params])}


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def window_values(
    series_ids: Iterable[int],
    start_ms: int,
    end_ms: int,
    aggregation: str,
    covered: int | None = None,
) -> dict[int, float]:
    """{series id: the aggregation of its points in [start_ms, end_ms)}; series without points
    are left out. `covered`: the rollup cursor (read when not given; 0 reads raw samples only).
    A few statements per chunk of series, whatever the aggregation."""
    ids = sorted(set(series_ids))
    if aggregation not in (*SIMPLE, "rate", "increase", *QUANTILE):
        raise ValueError(f"unknown aggregation {aggregation!r}")
    if not ids:
        return {}
    covered = covered_to() if covered is None else covered
    # Rolled minutes [a, b); a percentile's window reads its first minute's part raw, always
    # at least one point's worth, for the baseline.
    a = start_ms // MINUTE * MINUTE + MINUTE
    if aggregation not in QUANTILE and start_ms % MINUTE == 0:
        a = start_ms
    b = min(end_ms // MINUTE * MINUTE, covered)
    late: set[int] = set()
    if b > a:
        late = _ids_where(ids, LateMinute, "time >= %s AND time < %s", [a, b], "series_id")
    else:
        a = b = end_ms  # nothing rolled in the window: all raw
    out: dict[int, float] = {}
    rolled = [i for i in ids if i not in late]
    raw = sorted(late.intersection(ids))
    for chunk in _chunks(rolled):
        out.update(_values(chunk, start_ms, a, b, end_ms, aggregation))
    for chunk in _chunks(raw):
        out.update(_values(chunk, start_ms, end_ms, end_ms, end_ms, aggregation))
    return out


def _values(ids: list[int], start: int, a: int, b: int, end: int, aggregation: str):
    if aggregation in SIMPLE:
        return _simple(ids, start, a, b, end, aggregation)
    if aggregation in ("rate", "increase"):
        found = _increase(ids, start, a, b, end)
        if aggregation == "rate":
            return {sid: inc * 1000 / (end - start) for sid, inc in found.items()}
        return found
    return _quantiles(ids, start, a, b, end, QUANTILE[aggregation])


def _union(ids: list[int], start: int, a: int, b: int, end: int, rolled: str, raw: str):
    """The UNION ALL of the rollup rows of [a, b) and the raw samples of [start, a) and
    [b, end) (empty ranges left out), with its parameters."""
    ins, param = ids_in(ids)
    parts: list[str] = []
    params: list[Any] = []
    ranges = [(start, a, Sample, raw), (a, b, MinuteRollup, rolled), (b, end, Sample, raw)]
    for lo, hi, model, cols in ranges:
        if hi > lo:
            parts.append(
                f"SELECT series_id, {cols} FROM {model._meta.db_table} "
                f"WHERE series_id {ins} AND time >= %s AND time < %s"
            )
            params += [param, lo, hi]
    return " UNION ALL ".join(parts), params


def _run(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _simple(ids, start, a, b, end, aggregation) -> dict[int, float]:
    """One GROUP BY per part (it streams in the key's order: no sort), folded here: cheaper
    than grouping their union, which the database would sort."""
    ins, param = ids_in(ids)
    parts = [
        (start, a, Sample, "COUNT(*), SUM(value), MIN(value), MAX(value)"),
        (a, b, MinuteRollup, "CAST(SUM(count) AS BIGINT), SUM(sum), MIN(min), MAX(max)"),
        (b, end, Sample, "COUNT(*), SUM(value), MIN(value), MAX(value)"),
    ]
    acc: dict[int, Any] = {}
    for lo, hi, model, cols in parts:
        if hi <= lo:
            continue
        sql = (
            f"SELECT series_id, {cols} FROM {model._meta.db_table} "
            f"WHERE series_id {ins} AND time >= %s AND time < %s GROUP BY series_id"
        )
        rows = _run(sql, [param, lo, hi])
        if not acc:
            acc = {row[0]: row[1:] for row in rows}
            continue
        for sid, n, total, low, high in rows:
            have = acc.get(sid)
            if have is None:
                acc[sid] = (n, total, low, high)
            else:
                n0, t0, l0, h0 = have
                acc[sid] = (n0 + n, t0 + total, low if low < l0 else l0, high if high > h0 else h0)
    pick = {
        "avg": lambda v: v[1] / v[0],
        "sum": lambda v: v[1],
        "count": lambda v: v[0],
        "min": lambda v: v[2],
        "max": lambda v: v[3],
    }[aggregation]
    return {sid: float(pick(v)) for sid, v in acc.items() if v[0]}


def _increase(ids, start, a, b, end) -> dict[int, float]:
    """Cumulative counters: the segments' increases plus the steps between neighbours (a drop:
    the new value); delta counters: the sum. One statement; series with rollup rows from
    before `first`/`increase` existed are read again raw."""
    union, params = _union(
        ids,
        start,
        a,
        b,
        end,
        "time, first AS f, last AS l, increase AS inc, sum AS total",
        "time, value AS f, value AS l, 0 AS inc, value AS total",
    )
    sql = f"""
        SELECT w.series_id, se.temporality,
               SUM(w.inc + CASE WHEN w.prev IS NULL THEN 0 WHEN w.f >= w.prev THEN w.f - w.prev
                                ELSE w.f END),
               SUM(w.total), 2 * COUNT(*) - COUNT(w.f) - COUNT(w.inc)
        FROM (SELECT u.*, LAG(u.l) OVER (PARTITION BY u.series_id ORDER BY u.time) AS prev
              FROM ({union}) u) w
        JOIN {Series._meta.db_table} se ON se.id = w.series_id
        GROUP BY w.series_id, se.temporality"""
    out: dict[int, float] = {}
    stale: list[int] = []
    for sid, temporality, inc, total, missing in _run(sql, params):
        if temporality == Series.Temporality.DELTA:
            out[sid] = float(total or 0)
        elif missing:
            stale.append(sid)
        else:
            out[sid] = float(inc or 0)
    if stale and b > a:
        out.update(_increase(stale, start, end, end, end))
    return out


# --- percentiles ------------------------------------------------------------------------------
def _histogram_rows(ids: list[int], model, lo: int, hi: int):
    ins, param = ids_in(ids)
    sql = (
        f"SELECT series_id, time, bounds, counts FROM {model._meta.db_table} "
        f"WHERE series_id {ins} AND time >= %s AND time < %s ORDER BY series_id, time"
    )
    found: dict[int, list[tuple[int, list[float], list[int]]]] = defaultdict(list)
    if hi > lo:
        for sid, t, bounds, counts in _run(sql, [param, lo, hi]):
            found[sid].append((t, json.loads(bounds), json.loads(counts)))
    return found


def changes(points: list[tuple[int, list[float], list[int]]], after=None) -> Points:
    """A cumulative histogram's points as what changed since the point before (`after`, or
    the first point a baseline); a reset or new bounds: the point itself."""
    out: Points = []
    before = after
    for _t, bounds, counts in points:
        if before is not None:
            if before[0] != bounds or any(x < y for x, y in zip(counts, before[1], strict=True)):
                out.append((bounds, counts))
            else:
                out.append((bounds, [x - y for x, y in zip(counts, before[1], strict=True)]))
        before = (bounds, counts)
    return out


def merged(found: Points) -> tuple[list[float], list[int]] | None:
    """The changes with the last one's bounds summed (other layouts left out); None if empty."""
    if not found:
        return None
    bounds = found[-1][0]
    total = [0] * (len(bounds) + 1)
    for b, counts in found:
        if b == bounds:
            total = [x + y for x, y in zip(total, counts, strict=True)]
    return (bounds, total) if sum(total) > 0 else None


def _quantiles(ids, start, a, b, end, q: float) -> dict[int, float]:
    """Histogram series: merged buckets from raw points and minute rollups; gauges: their raw
    values (a few statements)."""
    delta = _ids_where(ids, Series, "temporality = %s", [Series.Temporality.DELTA], "id")
    rolled = b > a
    head = _histogram_rows(ids, HistogramSample, start, a)
    minutes = _histogram_rows(ids, MinuteHistogram, a, b)
    tail = _histogram_rows(ids, HistogramSample, b - MINUTE, end) if rolled else {}
    out: dict[int, float] = {}
    again: list[int] = []
    for sid in sorted(set(head) | set(minutes) | set(tail)):
        first, mine = head.get(sid, []), minutes.get(sid, [])
        anchors = [p for p in tail.get(sid, []) if p[0] < b]
        after = [p for p in tail.get(sid, []) if p[0] >= b]
        if sid in delta:
            found = [(p[1], p[2]) for p in [*first, *mine, *after]]
        elif not rolled or (not mine and not anchors and (first or not after)):
            found = changes([*first, *after])
        elif first and mine and anchors:
            found = changes(first) + [(p[1], p[2]) for p in mine]
            found += changes(after, (anchors[-1][1], anchors[-1][2]))
        else:
            again.append(sid)  # no baseline of its own inside the window: read raw
            continue
        total = merged(found)
        if total is not None:
            out[sid] = merged_quantile(q, *total)
    if again:
        out.update(_quantiles(again, start, end, end, end, q))
    gauges = [i for i in ids if i not in head and i not in minutes and i not in tail]
    if gauges:
        ins, param = ids_in(gauges)
        values: dict[int, list[float]] = defaultdict(list)
        for sid, value in _run(
            f"SELECT series_id, value FROM {Sample._meta.db_table} "
            f"WHERE series_id {ins} AND time >= %s AND time < %s",
            [param, start, end],
        ):
            values[sid].append(value)
        for sid, found_values in values.items():
            out[sid] = value_quantile(q, found_values)
    return out


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
