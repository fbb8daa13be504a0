"""Dashboards: an organization's (/monitoring/dashboard?organization=…), a configuration
item's (/monitoring/items/<id>/dashboard) and, read-only, a customer's own organization's in
the portal (/portal/status/dashboard). One builder renders all three: the pins, the service's
latency, throughput and error rate, and a breakdown of latency by a chosen label."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from sustain.accounts.models import Organization
from sustain.cmdb.models import ConfigItem
from sustain.core.access import agent_required
from sustain.core.errors import Invalid
from sustain.core.http import AuthedRequest
from sustain.core.tenancy import visible
from sustain.monitoring import chart_data, charts, dashboards
from sustain.monitoring.chart_views import RANGES, Range, bad_query, chart_range, refuse_unknown
from sustain.monitoring.models import DashboardPin, Series

MAX_SERIES = 2000
PARAMS = {"range", "from", "to", "by"}


def _pin_chart(pin: DashboardPin, user: Any, chosen: Range) -> Any:
    if pin.series is not None:
        fig, _lines = charts.series_chart(
            pin.series,
            user,
            chosen.start,
            chosen.end,
            height=300,
            only=pin.aggregation,
            title=pin.title or charts.series_title(pin.series),
        )
        return charts.embed(fig, str(pin))
    found = dashboards.selected(pin.organization_id, pin.config_item, pin.metric, pin.matchers)
    if not found:
        return None
    lines = chart_data.read(found, chosen.start, chosen.end)
    names = [pin.aggregation] if pin.aggregation else sorted(lines.values)
    if lines.kind == Series.Kind.GAUGE and not pin.aggregation:
        names = ["avg"]
    fig = charts.lines_chart(
        pin.title or f"{pin.metric} ({len(found)} series)",
        {charts.NAMES.get(n, n): lines.line(n) for n in names},
        charts.unit_label(found[0]),
        chosen.start,
        chosen.end,
    )
    return charts.embed(fig, str(pin))


def _health(rows: list[Series], chosen: Range) -> list[Any]:
    """Latency percentiles, throughput and error rate, each where its series exist."""
    found = dashboards.health_series(rows)
    out = []
    start, end = chosen.start, chosen.end
    latency = chart_data.read(found.latency, start, end) if found.latency else None
    if latency is not None:
        fig = charts.lines_chart(
            f"Latency: {found.latency[0].name}",
            {n: latency.line(n) for n, _q in chart_data.QUANTILES},
            found.latency[0].unit,
            start,
            end,
        )
        out.append(charts.embed(fig, "Latency percentiles"))
    requests = chart_data.read(found.requests, start, end) if found.requests else None
    through = requests or latency
    if through is not None:
        name = (found.requests or found.latency)[0].name
        fig = charts.lines_chart(
            f"Throughput: {name}", {"rate": through.line("rate")}, "per second", start, end
        )
        out.append(charts.embed(fig, "Throughput"))
    if found.errors and through is not None:
        errors = chart_data.read(found.errors, start, end)
        fig = charts.lines_chart(
            f"Error rate: {found.errors[0].name} / {name}",
            {"errors": dashboards.error_rate(errors, through)},
            "share of requests",
            start,
            end,
            percent=True,
        )
        out.append(charts.embed(fig, "Error rate"))
    return out


def _render(
    request: AuthedRequest,
    organization: Organization,
    item: ConfigItem | None,
    template: str,
    more: dict[str, Any],
) -> HttpResponse:
    try:
        refuse_unknown(request.GET, PARAMS | set(more.get("params", ())))
        chosen = chart_range(request.GET)
    except Invalid as exc:
        return bad_query(request, exc)
    rows_q = visible(Series.objects.filter(organization=organization), request.user)
    if item is not None:
        rows_q = rows_q.filter(config_item=item)
    rows = list(rows_q.order_by("name", "id")[:MAX_SERIES])
    latency = dashboards.health_series(rows).latency
    labels = dashboards.breakdown_labels(latency)
    by = request.GET.get("by") or (labels[0] if labels else "")
    if by and by not in labels:
        return bad_query(
            request,
            Invalid(f"by must be a label of the latency series: {', '.join(labels)}.", field="by"),
        )
    table = dashboards.breakdown(latency, by, chosen.start, chosen.end) if by else []
    bars = None
    if table:
        fig = charts.bars_chart(
            f"Slowest {by}s by p95",
            [r.value for r in table],
            [r.p95 or 0.0 for r in table],
            latency[0].unit,
        )
        bars = charts.embed(fig, f"p95 by {by}")
    pins = list(dashboards.pins(organization, item, request.user))
    keep = [("organization", organization.slug)] if "organizations" in more else []
    extra = "".join(f"&{k}={quote(v)}" for k, v in [*keep, ("by", by)] if v)
    return render(
        request,
        template,
        {
            "organization": organization,
            "item": item,
            "range": chosen,
            "ranges": [(k, label) for k, (label, _span) in RANGES.items()],
            "pinned": [(p, _pin_chart(p, request.user, chosen)) for p in pins],
            "health": _health(rows, chosen),
            "by": by,
            "labels": labels,
            "breakdown": table,
            "bars": bars,
            "unit": latency[0].unit if latency else "",
            "keep": keep,
            "by_query": extra,
            **more,
        },
    )


def _organizations(request: AuthedRequest):
    return visible(Organization.objects.all(), request.user).order_by("name")


@agent_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    """An organization's dashboard (?organization=slug; the first one with series otherwise)."""
    orgs = _organizations(request)
    slug = request.GET.get("organization", "")
    if slug:
        organization = orgs.filter(slug=slug).first()
        if organization is None:
            return bad_query(request, Invalid("No such organization.", field="organization"))
    else:
        with_series = visible(Series.objects.all(), request.user).values("organization_id")
        organization = orgs.filter(pk__in=with_series).first() or orgs.first()
    if organization is None:
        return bad_query(request, Invalid("No organization to show.", field="organization"))
    return _render(
        request,
        organization,
        None,
        "monitoring/dashboard.html",
        {"params": {"organization"}, "organizations": orgs, "staff": True},
    )


@agent_required
def item_dashboard(request: AuthedRequest, item_id: int) -> HttpResponse:
    item = get_object_or_404(
        visible(ConfigItem.objects.select_related("organization"), request.user), pk=item_id
    )
    return _render(request, item.organization, item, "monitoring/dashboard.html", {"staff": True})


@login_required
def portal_dashboard(request: AuthedRequest) -> HttpResponse:
    """The customer's own organization's dashboard, read-only (staff see their own
    organization's, as every portal page shows them what a customer would)."""
    organization = request.user.organization
    return _render(request, organization, None, "portal/dashboard.html", {"staff": False})
