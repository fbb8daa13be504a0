"""Metric rollups: raw samples rolled into 1-minute and 1-hour rows, kept for their retention,
and read back at the resolution a chart's range needs.

- `roll_minutes(lo, hi)`: the complete minutes of [lo, hi) rolled from raw samples, set-based
  (one INSERT … SELECT … GROUP BY series, minute for gauges and counters; histograms merged
  in Python and written with executemany). The range's rows are deleted first in the same
  transaction, so rolling a minute again gives the same rows (idempotent).
- `roll_hours(lo, hi)`: the same from the minute rollups.
- `sweep()`: the periodic job. It leases the one RollupCursor row with a conditional UPDATE
  (only one worker's can match), rolls the minutes completed since the cursor and those
  marked late by ingest (LateMinute), then the hours completed, then deletes what is past
  SUSTAIN_METRICS_RAW_DAYS / _MINUTE_DAYS / _HOUR_DAYS in bounded batches.
- `points(series, start, end, step, stat)`: (time, value) per step from raw, minutes or hours.

Histogram percentiles come from merged bucket counts with linear interpolation inside the
bucket, as Prometheus' histogram_quantile does; percentiles are never averaged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from sustain.core.errors import Invalid
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

MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000
CURSOR = "rollups"
LEASE = timedelta(minutes=5)
CHUNK = 6 * HOUR  # minutes rolled per statement
MAX_CHUNKS = 8  # per run: two days of backlog caught up per minute
DELETE_BATCH = 5000  # rows per DELETE statement
DELETE_BUDGET = 200_000  # rows per run
MAX_POINTS = 11_000
VALUE_STATS = ("avg", "last", "min", "max", "sum", "count")
HISTOGRAM_STATS = ("p50", "p95", "p99", "count", "sum", "avg")


def _table(model) -> str:
    return model._meta.db_table


def now_ms() -> int:
    return int(timezone.now().timestamp() * 1000)


def iso(ms: int) -> str:
    """An ISO 8601 UTC time of ms since the epoch (as the API takes it)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


# --- values ---------------------------------------------------------------------------------
def _roll_values(
    source: str, target: str, raw: bool, width: int, lo: int, hi: int, series_ids: list[int] | None
) -> None:
    """INSERT … SELECT … GROUP BY (series, interval) of `source` into `target` for [lo, hi):
    from raw samples (`raw`) or from finer rollups. Window functions over each interval give
    its last and first value and its increase (consecutive differences, a drop counting the
    new value); from finer rows the increase adds theirs and the steps between neighbours."""
    only = ""
    params: list[Any] = [lo, hi]
    if series_ids is not None:
        only = f" AND s.series_id IN ({', '.join(['%s'] * len(series_ids))})"
        params += series_ids
    if raw:
        cols = "s.value AS v, s.value AS f, s.value AS l, 1 AS n, s.value AS lo, s.value AS hi"
        cols += ", s.value AS total, 0 AS inc"
    else:
        cols = "s.first AS v, s.first AS f, s.last AS l, s.count AS n, s.min AS lo, s.max AS hi"
        cols += ", s.sum AS total, s.increase AS inc"
    # One window over each series in the key's order (no sort); a neighbour in another
    # interval marks the interval's first and last row.
    sql = f"""
        INSERT INTO {target} (series_id, time, count, min, max, sum, last, first, increase)
        SELECT series_id, t, SUM(n), MIN(lo), MAX(hi), SUM(total),
               MAX(CASE WHEN nt IS NULL OR nt >= t + {width} THEN l END),
               MAX(CASE WHEN pt IS NULL OR pt < t THEN f END),
               CASE WHEN COUNT(f) = COUNT(*) AND COUNT(inc) = COUNT(*) THEN
                   SUM(inc + CASE WHEN pt IS NULL OR pt < t THEN 0 WHEN v >= prev THEN v - prev
                                  ELSE v END) END
        FROM (SELECT s.series_id, (s.time / {width}) * {width} AS t, {cols},
                     LAG(s.{"value" if raw else "last"}) OVER w AS prev,
                     LAG(s.time) OVER w AS pt, LEAD(s.time) OVER w AS nt
              FROM {source} s WHERE s.time >= %s AND s.time < %s{only}
              WINDOW w AS (PARTITION BY s.series_id ORDER BY s.time)) g
        GROUP BY series_id, t
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _delete_range(model, lo: int, hi: int, series_ids: list[int] | None) -> None:
    rows = model.objects.filter(time__gte=lo, time__lt=hi)
    if series_ids is not None:
        rows = rows.filter(series_id__in=series_ids)
    rows._raw_delete(rows.db)


# --- histograms -----------------------------------------------------------------------------
def _merge(points: Iterable[tuple[int, int, float | None, list[float], list[int]]]):
    """Points of one interval merged: those with the last point's bounds are summed."""
    points = list(points)
    bounds = points[-1][3]
    counts = [0] * (len(bounds) + 1)
    n, total, summed = 0, 0.0, False
    for _t, c, s, b, cs in points:
        if b != bounds:
            continue
        n += c
        if s is not None:
            total, summed = total + s, True
        counts = [a + x for a, x in zip(counts, cs, strict=True)]
    return n, (total if summed else None), bounds, counts


def _deltas(rows: list, previous: dict[int, tuple], cumulative: set[int]):
    """Cumulative histograms' points turned into the change since the point before (a reset or
    new bounds start again from the point itself); delta ones as they are."""
    for sid, t, n, s, b, cs in rows:
        if sid not in cumulative:
            yield sid, t, n, s, b, cs
            continue
        before = previous.get(sid)
        previous[sid] = (n, s, b, cs)
        if before is None:
            continue  # the first point known: a baseline, as Prometheus' increase() takes it
        pn, ps, pb, pcs = before
        if pb != b or n < pn or any(x < y for x, y in zip(cs, pcs, strict=True)):
            yield sid, t, n, s, b, cs
        else:
            ds = None if s is None or ps is None else s - ps
            yield sid, t, n - pn, ds, b, [x - y for x, y in zip(cs, pcs, strict=True)]


def _roll_histograms(lo: int, hi: int, series_ids: list[int] | None) -> None:
    rows = HistogramSample.objects.filter(time__gte=lo, time__lt=hi)
    if series_ids is not None:
        rows = rows.filter(series_id__in=series_ids)
    found = [
        (sid, t, n, s, json.loads(b), json.loads(c))
        for sid, t, n, s, b, c in rows.order_by("series_id", "time").values_list(
            "series_id", "time", "count", "sum", "bounds", "counts"
        )
    ]
    ids = sorted({r[0] for r in found})
    cumulative = set(
        Series.objects.filter(id__in=ids, temporality=Series.Temporality.CUMULATIVE).values_list(
            "id", flat=True
        )
    )
    previous: dict[int, tuple] = {}
    for sid in cumulative:
        before = (
            HistogramSample.objects.filter(series_id=sid, time__lt=lo)
            .order_by("-time")
            .values_list("count", "sum", "bounds", "counts")
            .first()
        )
        if before is not None:
            previous[sid] = (before[0], before[1], json.loads(before[2]), json.loads(before[3]))
    groups: dict[tuple[int, int], list] = {}
    for sid, t, n, s, b, cs in _deltas(found, previous, cumulative):
        groups.setdefault((sid, t // MINUTE * MINUTE), []).append((t, n, s, b, cs))
    _write_histograms(MinuteHistogram, groups)


def _write_histograms(model, groups: dict[tuple[int, int], list]) -> None:
    out = []
    for (sid, start), points in groups.items():
        n, s, b, cs = _merge(points)
        out.append((sid, start, n, s, json.dumps(b), json.dumps(cs)))
    sql = (
        f"INSERT INTO {_table(model)} (series_id, time, count, sum, bounds, counts) "
        "VALUES (%s, %s, %s, %s, %s, %s)"
    )
    with connection.cursor() as cursor:
        for i in range(0, len(out), 5000):
            cursor.executemany(sql, out[i : i + 5000])


def _roll_hour_histograms(lo: int, hi: int, series_ids: list[int] | None) -> None:
    rows = MinuteHistogram.objects.filter(time__gte=lo, time__lt=hi)
    if series_ids is not None:
        rows = rows.filter(series_id__in=series_ids)
    groups: dict[tuple[int, int], list] = {}
    for sid, t, n, s, b, c in rows.order_by("series_id", "time").values_list(
        "series_id", "time", "count", "sum", "bounds", "counts"
    ):
        groups.setdefault((sid, t // HOUR * HOUR), []).append(
            (t, n, s, json.loads(b), json.loads(c))
        )
    _write_histograms(HourHistogram, groups)


# --- rolling --------------------------------------------------------------------------------


def _chunks(series_ids: list[int] | None, lo: int) -> Iterable[list[int]]:
    """The series to roll, 500 at a time: those given, else those with a sample since `lo`
    (last_sample_at is the newest sample's time, late ones included), so that each statement
    reads the samples through their (series, time) key rather than the whole table."""
    if series_ids is None:
        since = datetime.fromtimestamp(lo / 1000, tz=UTC)
        series_ids = list(
            Series.objects.filter(last_sample_at__gte=since)
            .order_by("id")
            .values_list("id", flat=True)
        )
    for i in range(0, len(series_ids), 500):
        yield series_ids[i : i + 500]


def roll_minutes(lo: int, hi: int, series_ids: list[int] | None = None) -> None:
    """The minutes of [lo, hi) (whole minutes) rolled again from raw samples."""
    lo, hi = lo // MINUTE * MINUTE, hi // MINUTE * MINUTE
    with transaction.atomic():
        for ids in _chunks(series_ids, lo):
            _delete_range(MinuteRollup, lo, hi, ids)
            _delete_range(MinuteHistogram, lo, hi, ids)
            _roll_values(_table(Sample), _table(MinuteRollup), True, MINUTE, lo, hi, ids)
            _roll_histograms(lo, hi, ids)


def roll_hours(lo: int, hi: int, series_ids: list[int] | None = None) -> None:
    """The hours of [lo, hi) (whole hours) rolled again from the minute rollups."""
    lo, hi = lo // HOUR * HOUR, hi // HOUR * HOUR
    source, target = _table(MinuteRollup), _table(HourRollup)
    with transaction.atomic():
        for ids in _chunks(series_ids, lo):
            _delete_range(HourRollup, lo, hi, ids)
            _delete_range(HourHistogram, lo, hi, ids)
            _roll_values(source, target, False, HOUR, lo, hi, ids)
            _roll_hour_histograms(lo, hi, ids)


def mark_late(points: Iterable[tuple[int, int]]) -> None:
    """Ingest's hook, with the (series id, ms) of a batch's points: minutes already rolled
    are marked, and the next sweep rolls them (and their hour) again."""
    cursor = RollupCursor.objects.filter(name=CURSOR).values_list("minutes_to", flat=True).first()
    if not cursor:
        return
    late = {(sid, t // MINUTE * MINUTE) for sid, t in points if t < cursor}
    if late:
        LateMinute.objects.bulk_create(
            [LateMinute(series_id=sid, time=t) for sid, t in sorted(late)], ignore_conflicts=True
        )


def claim(now=None) -> RollupCursor | None:
    """The cursor row leased to this worker, or None when another holds it."""
    RollupCursor.objects.get_or_create(name=CURSOR)
    now = now or timezone.now()
    took = RollupCursor.objects.filter(name=CURSOR, leased_until__lte=now).update(
        leased_until=now + LEASE
    )
    return RollupCursor.objects.get(name=CURSOR) if took else None


def _release(row: RollupCursor) -> None:
    RollupCursor.objects.filter(name=CURSOR).update(
        minutes_to=row.minutes_to,
        hours_to=row.hours_to,
        runs=row.runs + 1,
        leased_until=timezone.now(),
    )


def sweep(at_ms: int | None = None) -> dict[str, int]:
    """The periodic job: roll what is complete, re-roll late minutes, apply the retention.
    Returns what it did; {"claimed": 0} when another worker holds the lease."""
    row = claim()
    if row is None:
        return {"claimed": 0}
    try:
        return _sweep(row, at_ms if at_ms is not None else now_ms())
    finally:
        _release(row)


def _sweep(row: RollupCursor, now: int) -> dict[str, int]:
    done = {"claimed": 1, "minutes": 0, "hours": 0, "late": 0, "deleted": 0}
    complete = now // MINUTE * MINUTE
    first = (now - int(settings.METRICS_RAW_DAYS) * DAY) // HOUR * HOUR
    start = row.minutes_to or first
    for _ in range(MAX_CHUNKS):
        if start >= complete:
            break
        stop = min(start + CHUNK, complete)
        roll_minutes(start, stop)
        done["minutes"] += (stop - start) // MINUTE
        start = row.minutes_to = stop
    late = list(LateMinute.objects.values_list("series_id", "time")[:5000])
    for sid, t in late:
        # Unmarked first: a sample arriving while the minute is rolled marks it again.
        LateMinute.objects.filter(series_id=sid, time=t).delete()
        if t < first:
            continue  # its raw samples are (being) deleted: rolling it again would empty it
        roll_minutes(t, t + MINUTE, [sid])
        if row.hours_to and t < row.hours_to:
            hour = t // HOUR * HOUR
            roll_hours(hour, hour + HOUR, [sid])
    done["late"] = len(late)
    hours_complete = row.minutes_to // HOUR * HOUR if row.minutes_to else 0
    hstart = row.hours_to or first
    while hstart < hours_complete:
        stop = min(hstart + 24 * HOUR, hours_complete)
        roll_hours(hstart, stop)
        done["hours"] += (stop - hstart) // HOUR
        hstart = row.hours_to = stop
    done["deleted"] = retention(now, row)
    return done


def _delete_older(model, cutoff: int, budget: int) -> int:
    """Rows of `model` before `cutoff`, per series through its (series, time) key, at most
    DELETE_BATCH a statement and `budget` in all."""
    table = _table(model)
    gone = 0
    with connection.cursor() as cursor:
        for sid in Series.objects.order_by("id").values_list("id", flat=True).iterator():
            while gone < budget:
                cursor.execute(
                    f"SELECT time FROM {table} WHERE series_id = %s AND time < %s "
                    "ORDER BY time LIMIT 1 OFFSET %s",
                    [sid, cutoff, DELETE_BATCH],
                )
                found = cursor.fetchone()
                upto = cutoff if found is None else found[0]
                cursor.execute(
                    f"DELETE FROM {table} WHERE series_id = %s AND time < %s", [sid, upto]
                )
                gone += cursor.rowcount
                if found is None:
                    break
            if gone >= budget:
                break
    return gone


def retention(now: int, row: RollupCursor) -> int:
    """Raw samples past SUSTAIN_METRICS_RAW_DAYS (and rolled), minutes past
    SUSTAIN_METRICS_MINUTE_DAYS (and rolled into hours), hours past SUSTAIN_METRICS_HOUR_DAYS."""
    raw = now - int(settings.METRICS_RAW_DAYS) * DAY
    minute = now - int(settings.METRICS_MINUTE_DAYS) * DAY
    hour = now - int(settings.METRICS_HOUR_DAYS) * DAY
    gone = 0
    plan = [
        (Sample, min(raw, row.minutes_to or 0)),
        (HistogramSample, min(raw, row.minutes_to or 0)),
        (MinuteRollup, min(minute, row.hours_to or 0)),
        (MinuteHistogram, min(minute, row.hours_to or 0)),
        (HourRollup, hour),
        (HourHistogram, hour),
    ]
    for model, cutoff in plan:
        if gone < DELETE_BUDGET:
            gone += _delete_older(model, cutoff, DELETE_BUDGET - gone)
    return gone


# --- reading --------------------------------------------------------------------------------
def quantile(q: float, bounds: list[float], counts: list[int]) -> float | None:
    """Prometheus' histogram_quantile on one histogram's (non-cumulative) bucket counts."""
    total = sum(counts)
    if total <= 0 or not bounds:
        return None
    rank = q * total
    seen = 0
    for i, c in enumerate(counts):
        if seen + c >= rank and c > 0:
            if i == len(bounds):
                return bounds[-1]  # the bucket above the last bound: its lower bound
            upper = bounds[i]
            lower = bounds[i - 1] if i > 0 else (0.0 if upper > 0 else upper)
            return lower + (upper - lower) * (rank - seen) / c
        seen += c
    return bounds[-1]


def resolution(start: int, end: int, step: int, now: int | None = None) -> str:
    """raw, minute or hour: the coarsest whose interval fits in a step, finer never when the
    range starts before that one's retention."""
    now = now if now is not None else now_ms()
    kept = {
        "raw": now - int(settings.METRICS_RAW_DAYS) * DAY,
        "minute": now - int(settings.METRICS_MINUTE_DAYS) * DAY,
    }
    pick = "hour" if step >= HOUR else "minute" if step >= MINUTE else "raw"
    if pick == "raw" and start < kept["raw"]:
        pick = "minute"
    if pick == "minute" and start < kept["minute"]:
        pick = "hour"
    return pick


def _fold_values(rows, start: int, step: int, stat: str) -> list[list[float]]:
    """(time, count, min, max, sum, last) rows, oldest first, folded into steps."""
    out: dict[int, list[float]] = {}
    for t, n, lo, hi, total, last in rows:
        b = start + (t - start) // step * step
        acc = out.get(b)
        if acc is None:
            out[b] = [n, lo, hi, total, last]
        else:
            acc[0] += n
            acc[1] = min(acc[1], lo)
            acc[2] = max(acc[2], hi)
            acc[3] += total
            acc[4] = last
    pick = {
        "avg": lambda a: a[3] / a[0] if a[0] else None,
        "last": lambda a: a[4],
        "min": lambda a: a[1],
        "max": lambda a: a[2],
        "sum": lambda a: a[3],
        "count": lambda a: a[0],
    }[stat]
    return [[b / 1000, pick(a)] for b, a in out.items()]


def _fold_histograms(rows, start: int, step: int, stat: str) -> list[list[Any]]:
    groups: dict[int, list] = {}
    for t, n, s, b, c in rows:
        groups.setdefault(start + (t - start) // step * step, []).append(
            (t, n, s, json.loads(b), json.loads(c))
        )
    out: list[list[Any]] = []
    for b, pts in groups.items():
        n, s, bounds, counts = _merge(pts)
        if stat in ("p50", "p95", "p99"):
            value = quantile(int(stat[1:]) / 100, bounds, counts)
        elif stat == "count":
            value = n
        elif stat == "sum":
            value = s
        else:
            value = s / n if s is not None and n else None
        out.append([b / 1000, value])
    return out


def points(series: Series, start: int, end: int, step: int, stat: str | None = None):
    """(unix seconds, value) per step of [start, end) in ms, from the resolution the step
    allows: `stat` avg (default)/last/min/max/sum/count, or for a histogram p50/p95 (default)
    /p99/count/sum/avg. Steps without samples are left out. Returns (points, resolution)."""
    histogram = series.kind == Series.Kind.HISTOGRAM
    allowed = HISTOGRAM_STATS if histogram else VALUE_STATS
    stat = stat or allowed[1 if histogram else 0]
    if stat not in allowed:
        raise Invalid(f"stat is one of {', '.join(allowed)} for a {series.kind}.", field="stat")
    if end <= start:
        raise Invalid("end must be after start.", field="end")
    if step <= 0:
        raise Invalid("step must be positive.", field="step")
    if (end - start) // step > MAX_POINTS:
        raise Invalid(f"At most {MAX_POINTS} steps: take a larger step.", field="step")
    res = resolution(start, end, step)
    if histogram:
        model: Any = {"raw": HistogramSample, "minute": MinuteHistogram, "hour": HourHistogram}[res]
        hrows = (
            model.objects.filter(series=series, time__gte=start, time__lt=end)
            .order_by("time")
            .values_list("time", "count", "sum", "bounds", "counts")
        )
        return _fold_histograms(hrows, start, step, stat), res
    if res == "raw":
        rows: Iterable = (
            (t, 1, v, v, v, v)
            for t, v in Sample.objects.filter(series=series, time__gte=start, time__lt=end)
            .order_by("time")
            .values_list("time", "value")
        )
    else:
        rmodel = MinuteRollup if res == "minute" else HourRollup
        rows = (
            rmodel.objects.filter(series=series, time__gte=start, time__lt=end)
            .order_by("time")
            .values_list("time", "count", "min", "max", "sum", "last")
        )
    return _fold_values(rows, start, step, stat), res
