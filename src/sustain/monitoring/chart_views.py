"""The series explorer (filter by customer, item, metric name and label matchers; each series
with its latest value and a sparkline), one series' page with its chart over a chosen range,
and pinning it on a dashboard. Staff pages; customers read their dashboard in the portal.

Query parameters are bounded and checked: an unknown one, a malformed matcher or a range that
does not parse is answered 400 with a message naming it, never silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sustain.cmdb.models import ConfigItem
from sustain.core.access import agent_required
from sustain.core.errors import ActionError, Invalid
from sustain.core.http import AuthedRequest
from sustain.core.tenancy import visible
from sustain.monitoring import chart_data, charts, dashboards
from sustain.monitoring.models import DashboardPin, RuleState, Series
from sustain.monitoring.rule_eval import matches
from sustain.monitoring.rules import check_matchers
from sustain.monitoring.sparkline import sparkline

PAGE = 50
CANDIDATES = 1000  # series read before the label matchers that the database cannot apply
TEXT_MAX = 200
RANGES = {
    "1h": ("1 h", chart_data.HOUR),
    "6h": ("6 h", 6 * chart_data.HOUR),
    "24h": ("24 h", chart_data.DAY),
    "7d": ("7 d", 7 * chart_data.DAY),
    "30d": ("30 d", 30 * chart_data.DAY),
    "1y": ("1 y", 365 * chart_data.DAY),
}
RANGE_PARAMS = {"range", "from", "to"}
TREND = 6 * chart_data.HOUR
OPS = ("!=", "=~", "!~", "=")  # longest first: "a!=b" is not "a!" = "b"


# --- query parameters -------------------------------------------------------------------------
def refuse_unknown(query: QueryDict, allowed: set[str]) -> None:
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise Invalid(
            f"Unknown query parameter: {', '.join(unknown)} (this page takes "
            f"{', '.join(sorted(allowed))}).",
            field=unknown[0],
        )
    for name in query:
        if any(len(v) > TEXT_MAX for v in query.getlist(name)):
            raise Invalid(f"{name} is longer than {TEXT_MAX} characters.", field=name)


def _moment(text: str, name: str) -> int:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{name} must be a date and time (YYYY-MM-DDTHH:MM).", field=name) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.get_current_timezone())
    if not 2000 <= parsed.year < 2100:
        raise Invalid(f"{name} is not between 2000 and 2100.", field=name)
    return int(parsed.timestamp() * 1000)


@dataclass
class Range:
    key: str
    start: int
    end: int
    label: str

    def local(self, ms: int) -> str:
        moment = datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(
            timezone.get_current_timezone()
        )
        return moment.strftime("%Y-%m-%dT%H:%M")

    @property
    def start_text(self) -> str:
        return self.local(self.start)

    @property
    def end_text(self) -> str:
        return self.local(self.end)

    @property
    def query(self) -> str:
        if self.key == "custom":
            return f"range=custom&from={self.start_text}&to={self.end_text}"
        return f"range={self.key}"


def chart_range(query: QueryDict, default: str = "24h", now: int | None = None) -> Range:
    """?range=1h|6h|24h|7d|30d|1y, or range=custom (or none) with from and to."""
    now = now if now is not None else chart_data.rollups.now_ms()
    key = query.get("range", "")
    if key == "custom" or (not key and ("from" in query or "to" in query)):
        if not query.get("from") or not query.get("to"):
            raise Invalid("A custom range needs from and to.", field="from")
        start = _moment(query.get("from", ""), "from")
        end = _moment(query.get("to", ""), "to")
        if end <= start:
            raise Invalid("to must be after from.", field="to")
        if end - start > chart_data.MAX_SPAN:
            raise Invalid("A range is at most 400 days.", field="from")
        return Range("custom", start, end, "custom")
    key = key or default
    if key not in RANGES:
        raise Invalid(f"range must be one of {', '.join(RANGES)} or custom.", field="range")
    label, span = RANGES[key]
    return Range(key, now - span, now, label)


def parse_matchers(texts: list[str]) -> list[dict[str, str]]:
    """`label=value`, `label!=value`, `label=~regex`, `label!~regex` as rule matchers."""
    found = []
    for text in texts[:20]:
        for op in OPS:
            name, sep, value = text.partition(op)
            if sep and name.strip():
                found.append({"label": name.strip(), "op": op, "value": value})
                break
        else:
            raise Invalid(
                "label takes name=value, name!=value, name=~regex or name!~regex.", field="label"
            )
    try:
        return check_matchers(found)
    except Invalid as exc:
        raise Invalid(exc.message, field="label") from None


def bad_query(request: AuthedRequest, exc: Invalid) -> HttpResponse:
    return render(request, "monitoring/bad_query.html", {"error": exc.message}, status=400)


# --- the explorer -----------------------------------------------------------------------------
def _series(request: AuthedRequest):
    return visible(Series.objects.select_related("organization", "config_item"), request.user)


def _whole(query: QueryDict, name: str, low: int, high: int) -> int | None:
    text = query.get(name, "")
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise Invalid(f"{name} must be a whole number from {low} to {high}.", field=name)
    return int(text)


@agent_required
def series_list(request: AuthedRequest) -> HttpResponse:
    query = request.GET
    try:
        refuse_unknown(query, {"organization", "item", "name", "label", "page"})
        item_id = _whole(query, "item", 1, 2**62)
        page = _whole(query, "page", 1, 100) or 1
        matchers = parse_matchers(query.getlist("label"))
    except Invalid as exc:
        return bad_query(request, exc)
    rows = _series(request)
    customer = query.get("organization", "")
    if customer:
        rows = rows.filter(organization__slug=customer)
    if item_id:
        rows = rows.filter(config_item_id=item_id)
    name = query.get("name", "").strip()
    if name:
        rows = rows.filter(name__icontains=name)
    rows = rows.order_by("organization__name", "name", "id")
    found = [s for s in rows[:CANDIDATES] if matches(matchers, s.labels)]
    shown = found[(page - 1) * PAGE : page * PAGE]
    now = chart_data.rollups.now_ms()
    trends = chart_data.trends(shown, now - TREND, now, now)
    listed = []
    for s in shown:
        values = trends.get(s.pk, [])
        latest = next((v for v in reversed(values) if v is not None), None)
        listed.append(
            (s, latest, chart_data.HEADLINE[s.kind], sparkline(values, title=f"{s.name}, 6 h"))
        )
    return render(
        request,
        "monitoring/series_list.html",
        {
            "rows": listed,
            "count": len(found),
            "capped": len(found) >= CANDIDATES,
            "page": page,
            "more": len(found) > page * PAGE,
            "customer": customer,
            "item": item_id or "",
            "name": name,
            "labels": query.getlist("label"),
            "organizations": _series(request)
            .order_by("organization__name")
            .values_list("organization__slug", "organization__name")
            .distinct(),
            "items": visible(ConfigItem.objects.all(), request.user)
            .filter(pk__in=_series(request).values("config_item_id"))
            .order_by("name")[:200],
        },
    )


# --- one series -------------------------------------------------------------------------------
@agent_required
def series(request: AuthedRequest, series_id: int) -> HttpResponse:
    found = get_object_or_404(_series(request), pk=series_id)
    try:
        refuse_unknown(request.GET, RANGE_PARAMS)
        chosen = chart_range(request.GET)
    except Invalid as exc:
        return bad_query(request, exc)
    fig, lines = charts.series_chart(found, request.user, chosen.start, chosen.end)
    states = (
        RuleState.objects.filter(series=found, rule__organization_id=found.organization_id)
        .select_related("rule")
        .order_by("rule__name")
    )
    return render(
        request,
        "monitoring/series.html",
        {
            "series": found,
            "chart": charts.embed(fig, f"{found.name} over {chosen.label}"),
            "plan": lines.plan,
            "step": _duration(lines.plan.step),
            "range": chosen,
            "ranges": [(k, label) for k, (label, _span) in RANGES.items()],
            "states": states,
            "pins": visible(DashboardPin.objects.filter(series=found), request.user).select_related(
                "config_item"
            ),
            "aggregations": [
                (c, label)
                for c, label in DashboardPin.Aggregation.choices
                if c in dashboards.FOR_KIND[found.kind]
            ],
        },
    )


def _duration(ms: int) -> str:
    seconds = ms // 1000
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def _form_text(data: QueryDict, name: str) -> str:
    return str(data.get(name, ""))[:TEXT_MAX]


@agent_required
@require_POST
def series_pin(request: AuthedRequest, series_id: int) -> HttpResponse:
    found = get_object_or_404(_series(request), pk=series_id)
    try:
        pin = dashboards.pin_series(
            request.user,
            found,
            on_item=request.POST.get("dashboard") == "item",
            aggregation=_form_text(request.POST, "aggregation"),
            title=_form_text(request.POST, "title"),
        )
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        where = pin.config_item.name if pin.config_item else found.organization.name
        messages.success(request, f"Pinned on the dashboard of {where}.")
    return redirect("monitoring:series", found.pk)


@agent_required
@require_POST
def pin_delete(request: AuthedRequest, pin_id: int) -> HttpResponse:
    pin = get_object_or_404(visible(DashboardPin.objects.all(), request.user), pk=pin_id)
    back: Any = ("monitoring:series", pin.series_id) if pin.series_id else ("monitoring:dashboard",)
    try:
        dashboards.unpin(request.user, pin)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{pin} unpinned.")
    return redirect(*back)
