"""What a chart of metric series shows, read at the resolution its range needs.

`plan(start, end)` picks the table and the step: raw samples for ranges up to two hours, the
1-minute rollups up to three days, the 1-hour rollups beyond (a year reads hours), never a
finer table than its retention still holds; the step is the first of a fixed ladder that keeps
a chart under about 400 points and is a whole number of the table's intervals.

`read(series, start, end)` folds one or several series of one kind into those steps:

- gauges: the average (and min, max) of the values in each step, across the series;
- counters: the rate per second (the increase in the step over its length), summed across the
  series: a cumulative counter's increase is the difference of consecutive values (a drop is a
  reset: the new value is the increase), a delta counter's values are increases already;
- histograms: the buckets of every point in the step merged (summed; cumulative points turned
  into changes first, as the rollups do), then p50, p95 and p99 by
  `rule_eval.merged_quantile` on the merged counts: percentiles are never averaged. The count
  of observations gives the throughput.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from sustain.core.errors import Invalid
from sustain.monitoring import rollups
from sustain.monitoring.models import (
    HistogramSample,
    HourHistogram,
    HourRollup,
    MinuteHistogram,
    MinuteRollup,
    Sample,
    Series,
)
from sustain.monitoring.rule_eval import merged_quantile

SECOND = 1000
MINUTE = rollups.MINUTE
HOUR = rollups.HOUR
DAY = rollups.DAY
RAW_UP_TO = 2 * HOUR
MINUTES_UP_TO = 3 * DAY
TARGET_POINTS = 400
LADDER = [
    s * SECOND
    for s in (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
]
UNIT = {"raw": SECOND, "minute": MINUTE, "hour": HOUR}
MAX_SPAN = 400 * DAY
MAX_SERIES = 200  # series folded into one chart (a selector's)
QUANTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))


@dataclass(frozen=True)
class Plan:
    resolution: str  # raw, minute, hour
    step: int  # ms per point


def plan(start: int, end: int, now: int | None = None) -> Plan:
    """The table and the step for a chart of [start, end) (ms)."""
    if end <= start:
        raise Invalid("The range must end after it starts.", field="end")
    if end - start > MAX_SPAN:
        raise Invalid("The range is at most 400 days.", field="start")
    now = now if now is not None else rollups.now_ms()
    span = end - start
    resolution = "raw" if span <= RAW_UP_TO else "minute" if span <= MINUTES_UP_TO else "hour"
    if resolution == "raw" and start < now - int(settings.METRICS_RAW_DAYS) * DAY:
        resolution = "minute"
    if resolution == "minute" and start < now - int(settings.METRICS_MINUTE_DAYS) * DAY:
        resolution = "hour"
    unit = UNIT[resolution]
    wanted = span / TARGET_POINTS
    step = next((s for s in LADDER if s >= wanted and s % unit == 0), LADDER[-1])
    return Plan(resolution, max(step, unit))


@dataclass
class Lines:
    """The folded values of a chart: per line name, the step starts (ms) and their values."""

    kind: str
    plan: Plan
    times: list[int] = field(default_factory=list)
    values: dict[str, list[float | None]] = field(default_factory=dict)

    def line(self, name: str) -> list[tuple[int, float | None]]:
        return list(zip(self.times, self.values.get(name, []), strict=False))


def _step_of(t: int, start: int, step: int) -> int:
    return start + (t - start) // step * step


def _kind(series: Sequence[Series]) -> str:
    kinds = {s.kind for s in series}
    if len(kinds) != 1:
        raise Invalid("A chart folds series of one kind only.", field="series")
    return kinds.pop()


def read(series: Sequence[Series], start: int, end: int, now: int | None = None) -> Lines:
    """The lines of `series` (one kind) over [start, end) (ms), per `plan`."""
    if not series:
        raise Invalid("No series to chart.", field="series")
    series = list(series)[:MAX_SERIES]
    kind = _kind(series)
    chosen = plan(start, end, now)
    lines = Lines(kind, chosen)
    folded = FOLD[kind](READ[kind](series, start, end, chosen.resolution), start, chosen)
    lines.times = sorted(folded)
    names = sorted({k for v in folded.values() for k in v})
    lines.values = {n: [folded[t].get(n) for t in lines.times] for n in names}
    return lines


# --- histograms -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _bounds(text: str) -> tuple[float, ...]:
    """A layout's bounds, parsed once: every point of a series repeats the same text."""
    return tuple(json.loads(text))


def _histogram_rows(series: Sequence[Series], start: int, end: int, resolution: str):
    """(series id, time, count, bounds, counts) oldest first; raw cumulative points as changes."""
    model: Any = {"raw": HistogramSample, "minute": MinuteHistogram, "hour": HourHistogram}[
        resolution
    ]
    ids = [s.pk for s in series]
    rows = (
        model.objects.filter(series_id__in=ids, time__gte=start, time__lt=end)
        .order_by("series_id", "time")
        .values_list("series_id", "time", "count", "bounds", "counts")
    )
    parsed = ((sid, t, n, _bounds(b), json.loads(c)) for sid, t, n, b, c in rows)
    if resolution != "raw":
        return parsed  # rollups hold the changes in each interval already
    cumulative = {s.pk for s in series if s.temporality == Series.Temporality.CUMULATIVE}
    return _changes(parsed, cumulative)


def _changes(rows: Iterable[tuple], cumulative: set[int]):
    """A cumulative histogram's points as the change since the point before it (the first
    point of the range is the baseline; a reset or new bounds starts from the point itself)."""
    previous: dict[int, tuple] = {}
    for sid, t, n, bounds, counts in rows:
        if sid not in cumulative:
            yield sid, t, n, bounds, counts
            continue
        before = previous.get(sid)
        previous[sid] = (n, bounds, counts)
        if before is None:
            continue
        pn, pb, pc = before
        if pb != bounds or n < pn or any(a < b for a, b in zip(counts, pc, strict=True)):
            yield sid, t, n, bounds, counts
        else:
            yield sid, t, n - pn, bounds, [a - b for a, b in zip(counts, pc, strict=True)]


def merge(points: Iterable[tuple[Sequence[float], list[int]]]) -> tuple[list[float], list[int]]:
    """Bucket counts summed over points of one layout (the most frequent one wins when layouts
    differ: buckets of other bounds cannot be added to them)."""
    by_layout: dict[tuple[float, ...], list[int]] = {}
    for bounds, counts in points:
        key = tuple(bounds)  # the parsed layouts are tuples already: no copy
        have = by_layout.get(key)
        by_layout[key] = (
            list(counts) if have is None else [a + b for a, b in zip(have, counts, strict=True)]
        )
    if not by_layout:
        return [], []
    bounds_key, counts = max(by_layout.items(), key=lambda kv: sum(kv[1]))
    return list(bounds_key), counts


Folded = dict[int, dict[str, float | None]]


def _histograms(rows: Iterable[tuple], start: int, chosen: Plan) -> Folded:
    steps: dict[int, list[tuple[list[float], list[int]]]] = defaultdict(list)
    for _sid, t, _n, bounds, counts in rows:
        steps[_step_of(t, start, chosen.step)].append((bounds, counts))
    out: dict[int, dict[str, float | None]] = {}
    seconds = chosen.step / 1000
    for at, found in steps.items():
        bounds, counts = merge(found)
        total = sum(counts)
        values: dict[str, float | None] = {"rate": total / seconds}
        for name, q in QUANTILES:
            values[name] = merged_quantile(q, bounds, counts) if total else None
        out[at] = values
    return out


def distributions(
    series: Sequence[Series], start: int, end: int, now: int | None = None
) -> dict[int, tuple[list[float], list[int]]]:
    """{series id: its buckets merged over the whole of [start, end)}: one query."""
    chosen = plan(start, end, now)
    found: dict[int, list[tuple[list[float], list[int]]]] = defaultdict(list)
    for sid, _t, _n, b, c in _histogram_rows(series, start, end, chosen.resolution):
        found[sid].append((b, c))
    return {sid: merge(points) for sid, points in found.items()}


# --- counters ---------------------------------------------------------------------------------
def _counter_rows(series: Sequence[Series], start: int, end: int, resolution: str):
    """(series id, time, increase or None for a baseline) oldest first."""
    ids = [s.pk for s in series]
    delta = {s.pk for s in series if s.temporality == Series.Temporality.DELTA}
    if resolution == "raw":
        rows: Iterable = (
            (sid, t, v, v)
            for sid, t, v in Sample.objects.filter(series_id__in=ids, time__gte=start, time__lt=end)
            .order_by("series_id", "time")
            .values_list("series_id", "time", "value")
        )
    else:
        model = MinuteRollup if resolution == "minute" else HourRollup
        rows = (
            model.objects.filter(series_id__in=ids, time__gte=start, time__lt=end)
            .order_by("series_id", "time")
            .values_list("series_id", "time", "sum", "last")
        )
    last: dict[int, float] = {}
    for sid, t, total, value in rows:
        if sid in delta:
            yield sid, t, total
            continue
        before = last.get(sid)
        last[sid] = value
        if before is not None:
            yield sid, t, value - before if value >= before else value


def _counters(rows: Iterable[tuple], start: int, chosen: Plan) -> Folded:
    increase: dict[int, float] = defaultdict(float)
    for _sid, t, inc in rows:
        increase[_step_of(t, start, chosen.step)] += inc
    seconds = chosen.step / 1000
    return {at: {"rate": inc / seconds} for at, inc in increase.items()}


def increases(series: Sequence[Series], start: int, end: int, now: int | None = None):
    """{series id: its increase over [start, end)} (a breakdown's throughput)."""
    chosen = plan(start, end, now)
    out: dict[int, float] = defaultdict(float)
    for sid, _t, inc in _counter_rows(series, start, end, chosen.resolution):
        out[sid] += inc
    return dict(out)


# --- gauges -----------------------------------------------------------------------------------
def _gauge_rows(series: Sequence[Series], start: int, end: int, resolution: str):
    """(series id, time, count, min, max, sum) in series order, oldest first."""
    ids = [s.pk for s in series]
    if resolution == "raw":
        return (
            (sid, t, 1, v, v, v)
            for sid, t, v in Sample.objects.filter(series_id__in=ids, time__gte=start, time__lt=end)
            .order_by("series_id", "time")
            .values_list("series_id", "time", "value")
        )
    model = MinuteRollup if resolution == "minute" else HourRollup
    return (
        model.objects.filter(series_id__in=ids, time__gte=start, time__lt=end)
        .order_by("series_id", "time")
        .values_list("series_id", "time", "count", "min", "max", "sum")
    )


def _gauges(rows: Iterable[tuple], start: int, chosen: Plan) -> Folded:
    acc: dict[int, list[float]] = {}
    for _sid, t, n, low, high, total in rows:
        at = _step_of(t, start, chosen.step)
        have = acc.get(at)
        if have is None:
            acc[at] = [n, low, high, total]
        else:
            have[0] += n
            have[1] = min(have[1], low)
            have[2] = max(have[2], high)
            have[3] += total
    return {
        at: {"avg": a[3] / a[0] if a[0] else None, "min": a[1], "max": a[2]}
        for at, a in acc.items()
    }


READ: dict[str, Any] = {
    Series.Kind.HISTOGRAM: _histogram_rows,
    Series.Kind.COUNTER: _counter_rows,
    Series.Kind.GAUGE: _gauge_rows,
}
FOLD: dict[str, Any] = {
    Series.Kind.HISTOGRAM: _histograms,
    Series.Kind.COUNTER: _counters,
    Series.Kind.GAUGE: _gauges,
}
HEADLINE: dict[str, str] = {
    Series.Kind.HISTOGRAM: "p95",
    Series.Kind.COUNTER: "rate",
    Series.Kind.GAUGE: "avg",
}


def trends(series: Sequence[Series], start: int, end: int, now: int | None = None):
    """{series id: its headline values (p95, rate or average) per step, oldest first}: the
    sparklines of a list, one query per kind whatever the number of series."""
    chosen = plan(start, end, now)
    out: dict[int, list[float | None]] = {}
    by_kind: dict[str, list[Series]] = defaultdict(list)
    for s in series:
        by_kind[s.kind].append(s)
    for kind, group in by_kind.items():
        per_series: dict[int, list[tuple]] = defaultdict(list)
        for row in READ[kind](group, start, end, chosen.resolution):
            per_series[row[0]].append(row)
        for sid, rows in per_series.items():
            folded = FOLD[kind](rows, start, chosen)
            out[sid] = [folded[t].get(HEADLINE[kind]) for t in sorted(folded)]
    return out
