"""The JSON batch of samples (`POST /api/v1/metrics/samples`) read into incoming series.

    {"series": [{"name": "http_request_duration", "labels": {"route": "/pay"},
                 "kind": "gauge", "unit": "ms", "config_item": "acme-prod",
                 "points": [[1765100000, 12.5], ["2026-12-07T10:00:00Z", 13]]},
                {"name": "latency", "kind": "histogram",
                 "points": [{"time": 1765100000, "bounds": [0.1, 1], "counts": [3, 1, 0],
                             "count": 4, "sum": 0.9}]}]}

The structure (fields, types, no unknown field) is the API schema's; what is inside the points
is read here in one pass, the first fault refused with its place (`series.3.points.7.value`)
before anything is written. A token bound to a configuration item writes only that item's
series; one bound to an organization writes only its items'.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.conf import settings
from pydantic import AllowInfNan, Strict, TypeAdapter, ValidationError

from sustain.cmdb.models import ConfigItem
from sustain.core.errors import ActionError, Forbidden, Invalid
from sustain.monitoring import alertmanager
from sustain.monitoring.models import MachineToken, Series
from sustain.monitoring.series import (
    TIME_MAX_MS,
    TIME_MIN_MS,
    Histogram,
    Incoming,
    check_histogram,
    check_labels,
    finite,
    time_ms,
)

HISTOGRAM_FIELDS = {"time", "count", "sum", "bounds", "counts"}


class TooLarge(ActionError):
    status = 413


def _items(token: MachineToken, series: list[Any]) -> dict[str, ConfigItem]:
    refs = {str(s.config_item) for s in series if s.config_item is not None}
    return alertmanager.items_named(token.organization_id, refs)


def _item(token: MachineToken, ref: Any, items: dict[str, ConfigItem], where: str):
    if ref is None:
        return token.config_item
    item = items.get(str(ref))
    if item is None:
        raise Invalid(
            f"{where}: no configuration item {ref} in {token.organization.slug}.", field=where
        )
    if token.config_item is not None and item.pk != token.config_item.pk:
        raise Forbidden(
            f"{where}: this token writes only {token.config_item.name}'s series.", field=where
        )
    return item


def read(token: MachineToken, payload: Any) -> list[Incoming]:
    """The batch's series, checked whole; the first fault is an Invalid naming its place."""
    limit = settings.METRICS_MAX_SAMPLES
    total = sum(len(s.points) for s in payload.series)
    if total > limit:
        raise TooLarge(
            f"The batch has {total} points; at most {limit} are taken at once "
            "(SUSTAIN_METRICS_MAX_SAMPLES).",
            field="series",
        )
    items = _items(token, payload.series)
    found = []
    for i, s in enumerate(payload.series):
        where = f"series.{i}"
        one = Incoming(
            where=where,
            name=s.name,
            labels=check_labels(s.labels, f"{where}.labels"),
            kind=s.kind,
            temporality="cumulative" if s.kind == Series.Kind.GAUGE else s.temporality,
            unit=s.unit,
            config_item=_item(token, s.config_item, items, f"{where}.config_item"),
        )
        if s.kind == Series.Kind.HISTOGRAM:
            one.histograms = [_histogram(p, f"{where}.points.{j}") for j, p in enumerate(s.points)]
        else:
            one.points = _points(s.points, f"{where}.points")
        found.append(one)
    return found


# The common shape, checked in pydantic's compiled code: [number, finite number] pairs (bools
# and texts refused). Anything else goes point by point through _point, which names the fault.
_Number = Annotated[float, Strict(), AllowInfNan(False)]
_PAIRS = TypeAdapter(list[tuple[Annotated[float, Strict()], _Number]])


def _points(points: list[Any], where: str) -> list[tuple[int, float]]:
    try:
        pairs = _PAIRS.validate_python(points)
    except ValidationError:
        return [_point(p, f"{where}.{j}") for j, p in enumerate(points)]
    try:
        out = [(round(t * 1000), v) for t, v in pairs]
    except (OverflowError, ValueError):  # an infinite or NaN time
        return [_point(p, f"{where}.{j}") for j, p in enumerate(points)]
    if out and not (min(out)[0] >= TIME_MIN_MS and max(out)[0] < TIME_MAX_MS):
        return [_point(p, f"{where}.{j}") for j, p in enumerate(points)]
    return out


def _point(p: Any, where: str) -> tuple[int, float]:
    """One point the fast path did not take: read it slowly, naming what is wrong."""
    if not isinstance(p, list) or len(p) != 2:
        raise Invalid(f"{where} must be a [time, value] pair.", field=where)
    return time_ms(p[0], f"{where}.time"), finite(p[1], f"{where}.value")


def _histogram(p: Any, where: str) -> Histogram:
    if not isinstance(p, dict):
        raise Invalid(
            f"{where} must be an object with time, bounds, counts, count and sum.", field=where
        )
    for name in p:
        if name not in HISTOGRAM_FIELDS:
            raise Invalid(
                f"{where}.{name} is not a field of a histogram point.", field=f"{where}.{name}"
            )
    for name in ("time", "bounds", "counts", "count"):
        if name not in p:
            raise Invalid(f"{where}.{name} is missing.", field=f"{where}.{name}")
    for name in ("bounds", "counts"):
        if not isinstance(p[name], list):
            raise Invalid(f"{where}.{name} must be a list.", field=f"{where}.{name}")
    bounds, counts, count, total = check_histogram(
        where, p["bounds"], p["counts"], p["count"], p.get("sum")
    )
    return Histogram(
        time=time_ms(p["time"], f"{where}.time"),
        count=count,
        sum=total,
        bounds=bounds,
        counts=counts,
    )
