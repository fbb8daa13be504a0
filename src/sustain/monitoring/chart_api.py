"""REST endpoints behind the charts and dashboards: what a series' chart draws over a range
(its lines at the resolution the range takes, the rules' thresholds, the firing periods and
the deployments), a histogram's percentiles over a range from its merged buckets, and the
dashboards' pins (list, pin a series or a selector, unpin).

    GET    /api/v1/metrics/series/{series_id}/chart?start=&end=
    GET    /api/v1/metrics/series/{series_id}/percentiles?start=&end=
    GET    /api/v1/metrics/pins?organization=&config_item=
    POST   /api/v1/metrics/pins                    a series
    POST   /api/v1/metrics/selector-pins           a metric name and label matchers
    DELETE /api/v1/metrics/pins/{pin_id}
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from pydantic import Field

from sustain.cmdb import refs as cmdb_refs
from sustain.core import tenancy
from sustain.core.api import ErrorOut, Id, Input, Page, UtcDateTime
from sustain.core.errors import Invalid
from sustain.core.http import ApiRequest
from sustain.core.pagination import paginate
from sustain.monitoring import chart_data, chart_overlays, dashboards, refs, rollups, rules
from sustain.monitoring.models import DashboardPin, Sample, Series
from sustain.monitoring.rule_eval import merged_quantile, value_quantile
from sustain.monitoring.series_api import SeriesOut

router = Router(tags=["metrics"])
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
MAX_VALUES = 200_000


class ChartThresholdOut(Schema):
    rule: str
    level: str
    value: float
    aggregation: str
    comparison: str


class ChartFiringOut(Schema):
    rule: str
    start: datetime
    end: datetime | None = Field(description="None: still firing.")
    severity: str


class ChartDeploymentOut(Schema):
    at: datetime
    release: str
    environment: str
    by: str
    status: str


class ChartOut(Schema):
    series: SeriesOut
    resolution: str = Field(description="raw, minute or hour: the table the range reads.")
    step: int = Field(description="Seconds per point.")
    lines: dict[str, list[Any]] = Field(
        description="Per line (p50/p95/p99 and rate of a histogram, rate of a counter, "
        "avg/min/max of a gauge): [unix seconds, value] pairs."
    )
    thresholds: list[ChartThresholdOut]
    firing: list[ChartFiringOut]
    deployments: list[ChartDeploymentOut]


class PercentilesOut(Schema):
    series: SeriesOut
    start: datetime
    end: datetime
    resolution: str
    count: int = Field(description="Observations (a gauge: values) in the range.")
    p50: float | None
    p95: float | None
    p99: float | None


def _series(request: ApiRequest):
    return tenancy.visible(
        Series.objects.select_related("organization", "config_item"), request.auth
    )


def _range(start: datetime | None, end: datetime | None) -> tuple[int, int]:
    high = rollups.now_ms() if end is None else int(end.timestamp() * 1000)
    low = high - rollups.DAY if start is None else int(start.timestamp() * 1000)
    chart_data.plan(low, high)  # the range's checks: after its start, at most 400 days
    return low, high


@router.get("/metrics/series/{series_id}/chart", response={200: ChartOut, **ERRORS})
def series_chart(
    request: ApiRequest,
    series_id: Id,
    start: UtcDateTime | None = None,
    end: UtcDateTime | None = None,
):
    """What the series' chart draws from `start` (default: a day before `end`) to `end`
    (default: now): raw samples up to two hours, 1-minute rollups up to three days, 1-hour
    rollups beyond (at most 400 days); a histogram's percentiles from merged buckets."""
    found = get_object_or_404(_series(request), pk=series_id)
    low, high = _range(start, end)
    lines = chart_data.read([found], low, high)
    rules_on = chart_overlays.rules_for(found, request.auth)
    return {
        "series": found,
        "resolution": lines.plan.resolution,
        "step": lines.plan.step // 1000,
        "lines": {name: [[t / 1000, v] for t, v in lines.line(name)] for name in lines.values},
        "thresholds": chart_overlays.thresholds(rules_on),
        "firing": chart_overlays.firing_periods(found, rules_on, request.auth, low, high),
        "deployments": chart_overlays.deployments(found, request.auth, low, high),
    }


@router.get("/metrics/series/{series_id}/percentiles", response={200: PercentilesOut, **ERRORS})
def series_percentiles(
    request: ApiRequest,
    series_id: Id,
    start: UtcDateTime | None = None,
    end: UtcDateTime | None = None,
):
    """A histogram's p50, p95 and p99 over the whole range, from its buckets merged over it
    (never an average of percentiles); a gauge's, from its raw values in the range (at most
    200,000 of them). A counter has none (its values only grow)."""
    found = get_object_or_404(_series(request), pk=series_id)
    if found.kind == Series.Kind.COUNTER:
        raise Invalid("Percentiles are of histograms and gauges.", field="series_id")
    low, high = _range(start, end)
    if found.kind == Series.Kind.HISTOGRAM:
        bounds, counts = chart_data.distributions([found], low, high).get(found.pk, ([], []))
        total = sum(counts)

        def q(value: float) -> float | None:
            return merged_quantile(value, bounds, counts) if total else None

        resolution = chart_data.plan(low, high).resolution
    else:
        values = list(
            Sample.objects.filter(series=found, time__gte=low, time__lt=high).values_list(
                "value", flat=True
            )[:MAX_VALUES]
        )
        total = len(values)

        def q(value: float) -> float | None:
            return value_quantile(value, values) if values else None

        resolution = "raw"
    return {
        "series": found,
        "start": chart_overlays.as_datetime(low),
        "end": chart_overlays.as_datetime(high),
        "resolution": resolution,
        "count": total,
        "p50": q(0.5),
        "p95": q(0.95),
        "p99": q(0.99),
    }


# --- pins -------------------------------------------------------------------------------------
class PinMatcherIn(Input):
    label: str = Field(min_length=1, max_length=rules.LABEL_MAX)
    op: Literal["=", "!=", "=~", "!~"]
    value: str = Field(max_length=rules.VALUE_MAX)


class PinMatcherOut(Schema):
    label: str
    op: str
    value: str


class DashboardPinOut(Schema):
    id: int
    organization: str = Field(alias="organization.slug")
    config_item: int | None = Field(None, alias="config_item_id")
    series: int | None = Field(None, alias="series_id")
    metric: str
    matchers: list[PinMatcherOut]
    aggregation: str
    title: str
    position: int
    created_at: datetime


class DashboardPinIn(Input):
    series: int = Field(description="The series to pin.")
    on_item: bool = Field(False, description="On its item's dashboard (else its customer's).")
    aggregation: str = Field("", max_length=4)
    title: str = Field("", max_length=dashboards.TITLE_MAX)


class SelectorPinIn(Input):
    organization: int | str
    config_item: int | None = Field(None, description="The item's dashboard (else the customer's).")
    metric: str = Field(min_length=1, max_length=200)
    matchers: list[PinMatcherIn] = Field(default_factory=list, max_length=rules.MATCHERS_MAX)
    aggregation: str = Field("", max_length=4)
    title: str = Field("", max_length=dashboards.TITLE_MAX)


def _pins(request: ApiRequest):
    return tenancy.visible(DashboardPin.objects.select_related("organization"), request.auth)


@router.get("/metrics/pins", response=Page[DashboardPinOut])
def list_pins(
    request: ApiRequest,
    organization: str | None = None,
    config_item: int | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    """Dashboard pins you may see, in their dashboard's order; filter by customer or item."""
    rows = _pins(request)
    if organization:
        rows = rows.filter(organization__slug=organization)
    if config_item:
        rows = rows.filter(config_item_id=config_item)
    found, next_url = paginate(
        request, rows, order=("organization_id", "position", "id"), limit=limit, cursor=cursor
    )
    return {"results": found, "next": next_url}


@router.post("/metrics/pins", response={201: DashboardPinOut, **ERRORS})
def create_pin(request: ApiRequest, payload: DashboardPinIn):
    """Pin a series on its organization's dashboard (or, `on_item`, on its item's)."""
    found = get_object_or_404(_series(request), pk=payload.series)
    pin = dashboards.pin_series(
        request.auth,
        found,
        on_item=payload.on_item,
        aggregation=payload.aggregation,
        title=payload.title,
    )
    return Status(201, pin)


@router.post("/metrics/selector-pins", response={201: DashboardPinOut, **ERRORS})
def create_selector_pin(request: ApiRequest, payload: SelectorPinIn):
    """Pin the series of an organization (of one of its items) that a metric name and label
    matchers select, folded into one chart: histograms' buckets merged, counters' rates
    summed, gauges averaged."""
    organization = refs.managed_organization(request.auth, payload.organization)
    item = cmdb_refs.config_item(request.auth, payload.config_item, field="config_item")
    pin = dashboards.pin_selector(
        request.auth,
        organization,
        metric=payload.metric,
        matchers=[m.dict() for m in payload.matchers],
        aggregation=payload.aggregation,
        config_item=item,
        title=payload.title,
    )
    return Status(201, pin)


@router.delete("/metrics/pins/{pin_id}", response={204: None, **ERRORS})
def delete_pin(request: ApiRequest, pin_id: Id):
    dashboards.unpin(request.auth, get_object_or_404(_pins(request), pk=pin_id))
    return Status(204, None)
