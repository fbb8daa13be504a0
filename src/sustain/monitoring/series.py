"""Metric series and their samples: the one door every way of sending metrics goes through
(the JSON batch API, OTLP/HTTP, and later scrapes).

A sender's batch is first read into `Incoming` series (checked whole by its reader), then
`ingest` finds or makes each series of the owner's organization (a machine token's, a scrape
job's), refuses a batch that would pass SUSTAIN_MAX_SERIES_PER_ORG, and inserts every point in
one transaction (multi-row INSERTs on SQLite, COPY on PostgreSQL): all or nothing. A point
given twice (a retried delivery) is kept once.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from sustain.cmdb.models import ConfigItem
from sustain.core.errors import ActionError, Invalid
from sustain.monitoring import rollups
from sustain.monitoring.models import HistogramSample, Sample, Series

NAME_MAX = 200
UNIT_MAX = 40
MAX_LABELS = 30
LABEL_KEY_MAX = 100
LABEL_VALUE_MAX = 500
MAX_BUCKETS = 200
# 2000-01-01 .. 2100-01-01, in ms: anything outside is a unit mistake (seconds vs ns).
TIME_MIN_MS = 946_684_800_000
TIME_MAX_MS = 4_102_444_800_000
CHUNK = 500  # ids per IN (…) and rows per executemany call, under SQLite's variable limit


class TooManySeries(ActionError):
    """The organization's series limit: a label-cardinality explosion, not more disk."""

    status = 422


class Owner(Protocol):
    """Whose series a delivery writes: anything of one organization (a MachineToken, a
    ScrapeJob)."""

    @property
    def organization_id(self) -> int: ...


def max_series() -> int:
    return int(settings.MAX_SERIES_PER_ORG)


@dataclass
class Histogram:
    time: int
    count: int
    sum: float | None
    bounds: list[float]
    counts: list[int]


@dataclass
class Incoming:
    """One series of a batch, read and checked: `where` names it in errors (`series.3`)."""

    where: str
    name: str
    labels: dict[str, str]
    kind: str
    unit: str = ""
    temporality: str = Series.Temporality.CUMULATIVE
    config_item: ConfigItem | None = None
    points: list[tuple[int, float]] = field(default_factory=list)
    histograms: list[Histogram] = field(default_factory=list)

    @functools.cached_property
    def key(self) -> str:
        return series_key(self.config_item.pk if self.config_item else None, self.name, self.labels)


def canonical_labels(labels: dict[str, str]) -> str:
    return json.dumps(labels, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def series_key(config_item_id: int | None, name: str, labels: dict[str, str]) -> str:
    text = f"{config_item_id or ''}\n{name}\n{canonical_labels(labels)}"
    return hashlib.sha256(text.encode()).hexdigest()


# --- checks shared by the readers -----------------------------------------------------------
def check_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"{where} must be a metric name.", field=where)
    if len(value) > NAME_MAX:
        raise Invalid(f"{where} is longer than {NAME_MAX} characters.", field=where)
    return value


def check_labels(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise Invalid(f"{where} must be an object of texts.", field=where)
    if len(value) > MAX_LABELS:
        raise Invalid(f"{where} has more than {MAX_LABELS} labels.", field=where)
    for key, text in value.items():
        if not isinstance(key, str) or not key or len(key) > LABEL_KEY_MAX:
            raise Invalid(f"{where} has a label name that is empty or too long.", field=where)
        if not isinstance(text, str) or len(text) > LABEL_VALUE_MAX:
            raise Invalid(
                f"{where}.{key} must be a text of at most {LABEL_VALUE_MAX} characters.",
                field=f"{where}.{key}",
            )
    return dict(value)


def time_ms(value: Any, where: str) -> int:
    """Unix seconds (a number) or an ISO 8601 text with its offset, as milliseconds."""
    if isinstance(value, bool):
        raise Invalid(f"{where} must be Unix seconds or an ISO 8601 time.", field=where)
    if isinstance(value, int):
        ms = value * 1000
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise Invalid(f"{where} must be a finite number.", field=where)
        ms = round(value * 1000)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise Invalid(
                f"{where} must be Unix seconds or an ISO 8601 time.", field=where
            ) from None
        if parsed.tzinfo is None:
            raise Invalid(f"{where} needs its offset (Z or ±hh:mm).", field=where)
        ms = round(parsed.timestamp() * 1000)
    else:
        raise Invalid(f"{where} must be Unix seconds or an ISO 8601 time.", field=where)
    return check_ms(ms, where)


def check_ms(ms: int, where: str) -> int:
    if not TIME_MIN_MS <= ms < TIME_MAX_MS:
        raise Invalid(f"{where} is not between 2000 and 2100.", field=where)
    return ms


def finite(value: Any, where: str) -> float:
    try:
        number = float(value) if isinstance(value, int | float) else math.nan
    except OverflowError:
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise Invalid(f"{where} must be a finite number.", field=where)
    return number


def check_histogram(
    where: str, bounds: list[Any], counts: list[Any], count: Any, total: Any
) -> tuple[list[float], list[int], int, float | None]:
    if len(bounds) > MAX_BUCKETS:
        raise Invalid(
            f"{where}.bounds has more than {MAX_BUCKETS} buckets.", field=f"{where}.bounds"
        )
    clean_bounds = [finite(b, f"{where}.bounds.{i}") for i, b in enumerate(bounds)]
    if any(b >= c for b, c in itertools.pairwise(clean_bounds)):
        raise Invalid(f"{where}.bounds must increase.", field=f"{where}.bounds")
    if len(counts) != len(clean_bounds) + 1:
        raise Invalid(
            f"{where}.counts must have one count more than bounds (the bucket above the last).",
            field=f"{where}.counts",
        )
    clean_counts = []
    for i, c in enumerate(counts):
        if isinstance(c, bool) or not isinstance(c, int) or c < 0:
            raise Invalid(
                f"{where}.counts.{i} must be a whole number ≥ 0.", field=f"{where}.counts.{i}"
            )
        clean_counts.append(c)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise Invalid(f"{where}.count must be a whole number ≥ 0.", field=f"{where}.count")
    if sum(clean_counts) != count:
        raise Invalid(f"{where}.count is not the sum of counts.", field=f"{where}.count")
    clean_sum = None if total is None else finite(total, f"{where}.sum")
    return clean_bounds, clean_counts, count, clean_sum


# --- writing ----------------------------------------------------------------------------------
@dataclass
class Ingested:
    series: int = 0
    created: int = 0
    points: int = 0
    histogram_points: int = 0
    rejected: int = 0
    message: str = ""


def _existing(organization_id: int, keys: list[str]) -> dict[str, Series]:
    found: dict[str, Series] = {}
    for i in range(0, len(keys), CHUNK):
        rows = Series.objects.filter(organization_id=organization_id, key__in=keys[i : i + CHUNK])
        found.update({s.key: s for s in rows.only("id", "key", "kind", "temporality", "name")})
    return found


def resolve_series(
    token: Owner, incoming: list[Incoming], *, refuse: bool = True
) -> tuple[dict[str, Series], int, list[Incoming]]:
    """Each incoming series' row, made where new (inside the caller's transaction). Over the
    organization's limit: refused whole (`refuse`), or the new ones left out and returned."""
    org_id = token.organization_id
    first: dict[str, Incoming] = {}
    for one in incoming:
        first.setdefault(one.key, one)
    existing = _existing(org_id, list(first))
    left_out: list[Incoming] = []
    for key, one in list(first.items()):
        known = existing.get(key)
        if known is not None and (known.kind, known.temporality) != (one.kind, one.temporality):
            message = (
                f"{one.where}.kind: the series {one.name} is a {known.temporality} "
                f"{known.kind}, not a {one.temporality} {one.kind}."
            )
            if refuse:
                raise Invalid(message, field=f"{one.where}.kind")
            left_out.append(one)
            del first[key], existing[key]
    new = [one for key, one in first.items() if key not in existing]
    made = 0
    if new:
        limit = max_series()
        have = Series.objects.filter(organization_id=org_id).count()
        if have + len(new) > limit:
            if refuse:
                raise TooManySeries(
                    f"{new[0].where}: the series {new[0].name} would pass this organization's "
                    f"limit of {limit} series (SUSTAIN_MAX_SERIES_PER_ORG); it has {have}. "
                    "A label with unbounded values (an id, a timestamp) makes a series each.",
                    field=f"{new[0].where}.name",
                )
            room = max(0, limit - have)
            new, left_out = new[:room], left_out + new[room:]
        Series.objects.bulk_create(
            [
                Series(
                    organization_id=org_id,
                    config_item=one.config_item,
                    name=one.name,
                    labels=one.labels,
                    key=one.key,
                    kind=one.kind,
                    temporality=one.temporality,
                    unit=one.unit,
                )
                for one in new
            ],
            ignore_conflicts=True,  # a concurrent sender made it first: the same row
        )
        made = len(new)
        existing.update(_existing(org_id, [one.key for one in new]))
    return existing, made, left_out


def _insert(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Rows into `table`, a (series, time) given twice kept once: SQLite's executemany, or on
    PostgreSQL COPY into a temporary table and one INSERT … SELECT … ON CONFLICT DO NOTHING
    (COPY itself cannot skip a duplicate; executemany was ten times slower)."""
    if not rows:
        return
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            staging = f"_incoming_{table}"
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} "
                f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            with cursor.cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} "
                "ON CONFLICT DO NOTHING"
            )
            cursor.execute(f"TRUNCATE {staging}")
            return
        raw = connection.connection  # the sqlite3 connection, inside Django's transaction
        per = _rows_per_statement(len(columns))
        for i in range(0, len(rows), per):
            chunk = rows[i : i + per]
            raw.execute(_multi_row_insert(table, names, len(columns), len(chunk)), _flat(chunk))


def _rows_per_statement(width: int) -> int:
    """Rows per multi-row INSERT: a third less CPU than executemany's row-at-a-time steps,
    within the build's bound on bound parameters (32,766 by default)."""
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return max(1, min(2000, limit // width))


@functools.lru_cache(maxsize=64)
def _multi_row_insert(table: str, names: str, width: int, count: int) -> str:
    row = "(" + ",".join(["?"] * width) + ")"
    return f"INSERT OR IGNORE INTO {table} ({names}) VALUES " + ",".join([row] * count)


def _flat(rows: list[tuple[Any, ...]]) -> list[Any]:
    return list(itertools.chain.from_iterable(rows))


def ingest(token: Owner, incoming: list[Incoming], *, refuse: bool = True) -> Ingested:
    """Every point of `incoming` into the owner's organization, in one transaction."""
    result = Ingested()
    with transaction.atomic():
        rows, made, left_out = resolve_series(token, incoming, refuse=refuse)
        skipped = {one.key for one in left_out}
        samples: list[tuple[int, int, float]] = []
        histograms: list[tuple[Any, ...]] = []
        latest: dict[int, int] = {}
        for one in incoming:
            if one.key in skipped or one.key not in rows:
                continue
            sid = rows[one.key].pk
            samples.extend([(sid, t, v) for t, v in one.points])
            histograms.extend(
                (sid, h.time, h.count, h.sum, json.dumps(h.bounds), json.dumps(h.counts))
                for h in one.histograms
            )
            times = [t for t, _ in one.points] + [h.time for h in one.histograms]
            if times:
                latest[sid] = max(latest.get(sid, 0), *times)
        _insert(Sample._meta.db_table, ("series_id", "time", "value"), samples)
        _insert(
            HistogramSample._meta.db_table,
            ("series_id", "time", "count", "sum", "bounds", "counts"),
            histograms,
        )
        _touch(latest)
        rollups.mark_late(
            itertools.chain(((s, t) for s, t, _ in samples), ((h[0], h[1]) for h in histograms))
        )
    result.series = len({one.key for one in incoming} - skipped)
    result.created = made
    result.points = len(samples)
    result.histogram_points = len(histograms)
    result.rejected = sum(len(o.points) + len(o.histograms) for o in incoming if o.key in skipped)
    if left_out:
        result.message = (
            f"{len(left_out)} series left out (first: {left_out[0].name}): of another kind "
            f"than before, or past this organization's limit of {max_series()} series "
            "(SUSTAIN_MAX_SERIES_PER_ORG)."
        )
    return result


def _touch(latest: dict[int, int]) -> None:
    """last_sample_at moves forward only; series with one latest time share one UPDATE."""
    by_time: dict[int, list[int]] = defaultdict(list)
    for sid, ms in latest.items():
        by_time[ms].append(sid)
    for ms, ids in by_time.items():
        at = datetime.fromtimestamp(ms / 1000, tz=UTC)
        for i in range(0, len(ids), CHUNK):
            Series.objects.filter(pk__in=ids[i : i + CHUNK]).filter(
                Q(last_sample_at__isnull=True) | Q(last_sample_at__lt=at)
            ).update(last_sample_at=at)
