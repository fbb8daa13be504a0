"""REST endpoints of metric series: the JSON batch of samples (machine tokens) and reading
series and their points back (people's tokens and sessions, tenant-scoped).

    POST /api/v1/metrics/samples                      Authorization: Bearer sum_…
    GET  /api/v1/metrics/series?name=&label=route:/pay
    GET  /api/v1/metrics/series/{series_id}/points?start=&end=
    GET  /api/v1/metrics/series/{series_id}/rollup?start=&end=&step=&stat=

Points come back as they were sent: `[unix seconds, value]` pairs, or for histograms one object
per point with its bucket bounds and counts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from django.conf import settings
from django.db.models import TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from pydantic import BaseModel, ConfigDict, Field

from sustain.core import tenancy
from sustain.core.api import ErrorOut, Id, Input, Page, UtcDateTime
from sustain.core.errors import Invalid
from sustain.core.http import ApiRequest
from sustain.core.ids import as_id
from sustain.core.pagination import paginate
from sustain.monitoring import ingest_json, rollups
from sustain.monitoring import series as series_actions
from sustain.monitoring.models import HistogramSample, Sample, Series
from sustain.monitoring.tokens import MachineTokenAuth

router = Router(tags=["metrics"])
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 413: ErrorOut, 422: ErrorOut}
MAX_SERIES_PER_BATCH = 5000
POINTS_PAGE = 10_000


class MetricsTokenAuth(MachineTokenAuth):
    """A machine token, then the body's declared size, before the body is read."""

    def __call__(self, request: HttpRequest) -> Any:
        found = super().__call__(request)
        if found:
            length = as_id(request.META.get("CONTENT_LENGTH") or "0") or 0
            if length > settings.METRICS_MAX_BODY:
                raise ingest_json.TooLarge(
                    f"The body is larger than {settings.METRICS_MAX_BODY} bytes "
                    "(SUSTAIN_METRICS_MAX_BODY).",
                    field="body",
                )
        return found


class SeriesSamplesIn(BaseModel):
    """One series of a batch. A plain pydantic model, not an Input: it is validated once per
    series of a 5,000-series batch, and its fields need no more than pydantic's own (strict
    where it matters) checks; unknown fields are refused all the same."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=series_actions.NAME_MAX)
    labels: dict[str, str] = Field(default_factory=dict)
    kind: Literal["gauge", "counter", "histogram"] = "gauge"
    temporality: Literal["cumulative", "delta"] = Field(
        "cumulative", description="Of a counter or histogram: totals, or changes since the last."
    )
    unit: str = Field("", max_length=series_actions.UNIT_MAX)
    config_item: int | str | None = Field(
        None, description="The configuration item's id or name (else the token's, if any)."
    )
    points: list[Any] = Field(
        description="Gauges and counters: [time, value] pairs, the time in Unix seconds or "
        "ISO 8601. Histograms: objects {time, bounds, counts, count, sum}, with one count more "
        "than bounds (the bucket above the last bound)."
    )


class SamplesIn(Input):
    series: list[SeriesSamplesIn] = Field(min_length=1, max_length=MAX_SERIES_PER_BATCH)


class SamplesOut(Schema):
    series: int = Field(description="Series in the batch.")
    created: int = Field(description="Series seen for the first time.")
    points: int
    histogram_points: int


@router.post("/metrics/samples", auth=MetricsTokenAuth(), response={200: SamplesOut, **ERRORS})
def post_samples(request: ApiRequest, payload: SamplesIn):
    """Many series' points at once, all or nothing: the first bad point is refused by its
    place (`series.3.points.7.value`) and nothing is written."""
    token = request.machine_token  # type: ignore[attr-defined]
    return series_actions.ingest(token, ingest_json.read(token, payload))


# --- reading back -----------------------------------------------------------------------------
class SeriesOut(Schema):
    id: int
    name: str
    labels: dict[str, str]
    kind: str
    temporality: str
    unit: str
    organization: str = Field(alias="organization.slug")
    config_item: int | None = Field(None, alias="config_item_id")
    created_at: datetime
    last_sample_at: datetime | None


class PointsOut(Schema):
    series: SeriesOut
    points: list[Any] = Field(
        description="[unix seconds, value] pairs; for a histogram, objects with bounds, counts, "
        "count and sum."
    )
    next: str | None = Field(None, description="The following points, when there are more.")


def _series(request: ApiRequest):
    return tenancy.visible(Series.objects.select_related("organization"), request.auth)


def _label_filters(rows, labels: list[str]):
    for i, text in enumerate(labels):
        key, sep, value = text.partition(":")
        if not sep or not key:
            raise Invalid("label takes name:value (e.g. route:/pay).", field="label")
        alias = f"_label{i}"
        # Cast: a plain text comparison, not the JSON one KeyTransform's own lookups do.
        label_text = Cast(KeyTextTransform(key, "labels"), TextField())
        rows = rows.alias(**{alias: label_text}).filter(**{alias: value})
    return rows


@router.get("/metrics/series", response=Page[SeriesOut])
def list_series(
    request: ApiRequest,
    name: str | None = None,
    label: list[str] = Query(None),  # noqa: B008
    kind: str | None = None,
    organization: str | None = None,
    config_item: int | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    """Series you may see; `label=name:value` (repeatable) keeps those with that label."""
    rows = _series(request)
    if name:
        rows = rows.filter(name=name)
    if kind:
        rows = rows.filter(kind=kind)
    if organization:
        rows = rows.filter(organization__slug=organization)
    if config_item:
        rows = rows.filter(config_item_id=config_item)
    rows = _label_filters(rows, label or [])
    found, next_url = paginate(request, rows, order=("name", "id"), limit=limit, cursor=cursor)
    return {"results": found, "next": next_url}


def _ms(value: datetime | None, default: int) -> int:
    return default if value is None else int(value.timestamp() * 1000)


@router.get("/metrics/series/{series_id}/points", response=PointsOut)
def series_points(
    request: ApiRequest,
    series_id: Id,
    start: UtcDateTime | None = None,
    end: UtcDateTime | None = None,
):
    """The raw points of one series from `start` (inclusive) to `end` (exclusive), oldest
    first, at most 10,000 at a time (`next` continues)."""
    found = get_object_or_404(_series(request), pk=series_id)
    low, high = _ms(start, 0), _ms(end, series_actions.TIME_MAX_MS)
    if found.kind == Series.Kind.HISTOGRAM:
        hrows = list(
            HistogramSample.objects.filter(series=found, time__gte=low, time__lt=high)
            .order_by("time")
            .values_list("time", "count", "sum", "bounds", "counts")[: POINTS_PAGE + 1]
        )
        more = len(hrows) > POINTS_PAGE
        hrows = hrows[:POINTS_PAGE]
        points: list[Any] = [
            {
                "time": t / 1000,
                "count": n,
                "sum": s,
                "bounds": json.loads(b),
                "counts": json.loads(c),
            }
            for t, n, s, b, c in hrows
        ]
        last = hrows[-1][0] if hrows else None
    else:
        rows = list(
            Sample.objects.filter(series=found, time__gte=low, time__lt=high)
            .order_by("time")
            .values_list("time", "value")[: POINTS_PAGE + 1]
        )
        more = len(rows) > POINTS_PAGE
        rows = rows[:POINTS_PAGE]
        points = [[t / 1000, v] for t, v in rows]
        last = rows[-1][0] if rows else None
    next_url = None
    if more and last is not None:
        after = datetime.fromtimestamp((last + 1) / 1000, tz=UTC).isoformat()
        query = f"start={after.replace('+00:00', 'Z')}"
        if end is not None:
            query += f"&end={end.isoformat().replace('+00:00', 'Z')}"
        next_url = f"{request.path}?{query}"
    return {"series": found, "points": points, "next": next_url}


class RollupOut(Schema):
    series: SeriesOut
    resolution: str = Field(description="Where the points come from: raw, minute or hour.")
    step: int = Field(description="Seconds per point.")
    stat: str
    points: list[Any] = Field(
        description="[unix seconds, value] pairs, one per step with samples in it; a "
        "histogram's percentiles come from its merged buckets."
    )


@router.get("/metrics/series/{series_id}/rollup", response={200: RollupOut, **ERRORS})
def series_rollup(
    request: ApiRequest,
    series_id: Id,
    start: UtcDateTime | None = None,
    end: UtcDateTime | None = None,
    step: int | None = Query(None, ge=1, le=400 * 86400),
    stat: str | None = Query(None, max_length=10),
):
    """One series from `start` (default: a day before `end`) to `end` (default: now), one
    point per `step` seconds (default: the range over 300): avg/last/min/max/sum/count of a
    gauge or counter (default avg), p50/p95/p99/count/sum/avg of a histogram (default p95).
    Steps of an hour and more read the hourly rollups, of a minute and more the 1-minute ones,
    shorter steps the raw samples (a range older than a table's retention: the coarser one)."""
    found = get_object_or_404(_series(request), pk=series_id)
    high = _ms(end, rollups.now_ms())
    low = _ms(start, high - rollups.DAY)
    seconds = step if step is not None else max(1, (high - low) // 1000 // 300)
    points, resolution = rollups.points(found, low, high, seconds * 1000, stat)
    return {
        "series": found,
        "resolution": resolution,
        "step": seconds,
        "stat": stat or ("p95" if found.kind == Series.Kind.HISTOGRAM else "avg"),
        "points": points,
    }
