"""Dashboards of an organization and of a configuration item: the pins (the one door that
adds and removes them, for the pages and the API) and what a dashboard shows.

A dashboard shows, over a chosen range: its pinned charts in order; the service's health
found among its series by name (latency percentiles from the merged buckets of the latency
histograms, throughput as the requests' rate, the error rate as errors over requests); and a
breakdown of the latency histograms by a label (the slowest endpoints by p95, with their
throughput), as a bar chart and a table.

Agents and managers pin and unpin (a dashboard is shared by the team); customers read their
own organization's. Every read goes through `visible()`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max, QuerySet

from sustain.accounts.models import Organization, User
from sustain.cmdb.models import ConfigItem
from sustain.core import events, tenancy
from sustain.core.errors import Forbidden, Invalid
from sustain.monitoring import chart_data
from sustain.monitoring.models import DashboardPin, Series
from sustain.monitoring.rule_eval import matches, merged_quantile
from sustain.monitoring.rules import check_matchers

MAX_PINS = 50
TITLE_MAX = 200
BREAKDOWN_TOP = 10
BREAKDOWN_LABELS = ("endpoint", "route", "path", "handler", "operation")
LATENCY = re.compile(r"duration|latency", re.I)
REQUESTS = re.compile(r"requests?(_total)?$|requests?_count$", re.I)
ERRORS = re.compile(r"errors?(_total)?$|failures?(_total)?$", re.I)
AGGREGATIONS = [c for c, _label in DashboardPin.Aggregation.choices]
FOR_KIND: dict[str, set[str]] = {
    Series.Kind.HISTOGRAM: {"", "p50", "p95", "p99", "rate"},
    Series.Kind.COUNTER: {"", "rate"},
    Series.Kind.GAUGE: {"", "avg", "min", "max"},
}


# --- pins -------------------------------------------------------------------------------------
def _check(actor: User, organization_id: int) -> None:
    if not actor.is_agent:
        raise Forbidden("Only the team pins charts on dashboards.")
    if not tenancy.can_see_organization(actor, organization_id):
        raise Forbidden("You may not change this organization's dashboards.")


def _aggregation(value: Any, kind: str) -> str:
    if value not in AGGREGATIONS:
        raise Invalid(
            f"aggregation must be one of {', '.join(a or '(empty)' for a in AGGREGATIONS)}.",
            field="aggregation",
        )
    if value not in FOR_KIND[kind]:
        allowed = ", ".join(sorted(a or "(empty)" for a in FOR_KIND[kind]))
        raise Invalid(f"A {kind} is charted as {allowed}.", field="aggregation")
    return str(value)


def _title(value: Any) -> str:
    if not isinstance(value, str) or len(value) > TITLE_MAX:
        raise Invalid(f"title must be text of at most {TITLE_MAX} characters.", field="title")
    return value.strip()


def _place(actor: User, organization_id: int, item: ConfigItem | None, **values: Any):
    on = DashboardPin.objects.filter(organization_id=organization_id, config_item=item)
    if on.count() >= MAX_PINS:
        raise Invalid(f"A dashboard holds at most {MAX_PINS} pins.", field="series")
    last = on.aggregate(m=Max("position"))["m"]
    with transaction.atomic():
        pin = DashboardPin.objects.create(
            organization_id=organization_id,
            config_item=item,
            position=0 if last is None else last + 1,
            created_by=actor,
            **values,
        )
        events.record(pin, "created", actor=actor, after={"title": str(pin)}, is_public=False)
    return pin


def pin_series(
    actor: User,
    series: Series,
    *,
    on_item: bool = False,
    aggregation: str = "",
    title: str = "",
) -> DashboardPin:
    """Pin `series` on its organization's dashboard, or on its item's (`on_item`)."""
    _check(actor, series.organization_id)
    if on_item and series.config_item_id is None:
        raise Invalid("This series belongs to no configuration item.", field="on_item")
    return _place(
        actor,
        series.organization_id,
        series.config_item if on_item else None,
        series=series,
        aggregation=_aggregation(aggregation, series.kind),
        title=_title(title),
    )


def pin_selector(
    actor: User,
    organization: Organization,
    *,
    metric: str,
    matchers: Any = (),
    aggregation: str = "",
    config_item: ConfigItem | None = None,
    title: str = "",
) -> DashboardPin:
    """Pin the series of `organization` (of `config_item`, when given) that a selector
    matches, folded into one chart."""
    _check(actor, organization.pk)
    if config_item is not None and config_item.organization_id != organization.pk:
        raise Invalid("The configuration item is another organization's.", field="config_item")
    if not isinstance(metric, str) or not 0 < len(metric.strip()) <= 200:
        raise Invalid("metric must be a metric name.", field="metric")
    clean = check_matchers(list(matchers))
    found = selected(organization.pk, config_item, metric.strip(), clean)
    kind = found[0].kind if found else Series.Kind.GAUGE
    return _place(
        actor,
        organization.pk,
        config_item,
        metric=metric.strip(),
        matchers=clean,
        aggregation=_aggregation(aggregation, kind),
        title=_title(title),
    )


def unpin(actor: User, pin: DashboardPin) -> None:
    _check(actor, pin.organization_id)
    with transaction.atomic():
        events.record(pin, "deleted", actor=actor, before={"title": str(pin)}, is_public=False)
        pin.delete()


# --- what a dashboard shows -------------------------------------------------------------------
def selected(
    organization_id: int, item: ConfigItem | None, metric: str, matchers: list[dict[str, str]]
) -> list[Series]:
    """A selector's series (of one kind: the first one's), at most chart_data.MAX_SERIES."""
    rows = Series.objects.filter(organization_id=organization_id, name=metric)
    if item is not None:
        rows = rows.filter(config_item=item)
    found = [s for s in rows.order_by("id")[:1000] if matches(matchers, s.labels)]
    kind = found[0].kind if found else None
    return [s for s in found if s.kind == kind][: chart_data.MAX_SERIES]


def pins(organization: Organization, item: ConfigItem | None, user: Any) -> QuerySet[DashboardPin]:
    return (
        tenancy.visible(DashboardPin.objects.all(), user)
        .filter(organization=organization, config_item=item)
        .select_related("series__organization", "series__config_item")
        .order_by("position", "id")
    )


@dataclass
class Health:
    latency: list[Series] = field(default_factory=list)
    requests: list[Series] = field(default_factory=list)
    errors: list[Series] = field(default_factory=list)


def _first_name(rows: list[Series], kind: str, pattern: re.Pattern[str]) -> list[Series]:
    names = sorted({s.name for s in rows if s.kind == kind and pattern.search(s.name)})
    return [s for s in rows if names and s.name == names[0] and s.kind == kind]


def health_series(rows: list[Series]) -> Health:
    """The latency histograms, request counters and error counters among `rows`, by name:
    the first metric name of each that looks like one."""
    return Health(
        latency=_first_name(rows, Series.Kind.HISTOGRAM, LATENCY),
        requests=_first_name(rows, Series.Kind.COUNTER, REQUESTS),
        errors=_first_name(rows, Series.Kind.COUNTER, ERRORS),
    )


def error_rate(
    errors: chart_data.Lines, requests: chart_data.Lines
) -> list[tuple[int, float | None]]:
    """Errors' rate over requests' rate per step (a step without requests has none)."""
    wanted = dict(requests.line("rate"))
    out = []
    for t, e in errors.line("rate"):
        r = wanted.get(t)
        out.append((t, (e or 0.0) / r if r else None))
    return out


def breakdown_labels(rows: list[Series]) -> list[str]:
    """The labels the latency series can be broken down by (the usual ones first)."""
    names = {k for s in rows for k in s.labels}
    return [n for n in BREAKDOWN_LABELS if n in names] + sorted(names - set(BREAKDOWN_LABELS))


@dataclass
class Row:
    value: str
    p95: float | None
    p50: float | None
    rate: float  # observations per second


def breakdown(rows: list[Series], label: str, start: int, end: int) -> list[Row]:
    """Per value of `label`: p50 and p95 of the merged buckets over the range, and the
    throughput; the slowest (by p95) first, at most BREAKDOWN_TOP."""
    merged = chart_data.distributions(rows, start, end)
    groups: dict[str, list[tuple[list[float], list[int]]]] = defaultdict(list)
    for s in rows:
        if s.pk in merged:
            groups[str(s.labels.get(label, ""))].append(merged[s.pk])
    seconds = (end - start) / 1000
    out = []
    for value, found in groups.items():
        bounds, counts = chart_data.merge(found)
        total = sum(counts)
        out.append(
            Row(
                value=value or "(none)",
                p95=merged_quantile(0.95, bounds, counts) if total else None,
                p50=merged_quantile(0.5, bounds, counts) if total else None,
                rate=total / seconds,
            )
        )
    out.sort(key=lambda r: (r.p95 is None, -(r.p95 or 0.0), r.value))
    return out[:BREAKDOWN_TOP]
