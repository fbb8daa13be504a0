"""Monitoring pages for staff: alerts (firing, flapping, held by maintenance, recent), one
alert's history, sources with their machine tokens, maintenance windows (as a list and as a
month's calendar), and one configuration item's uptime and alert history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from sustain.cmdb.models import ConfigItem
from sustain.core.access import agent_required
from sustain.core.errors import ActionError, Invalid
from sustain.core.forms import add_action_error
from sustain.core.http import AuthedRequest
from sustain.core.pagination import paginate
from sustain.core.tenancy import visible
from sustain.monitoring import actions, calendar, queries, windows
from sustain.monitoring.forms import MachineTokenForm, WindowForm
from sustain.monitoring.models import (
    Alert,
    AlertEvent,
    Heartbeat,
    MachineToken,
    RuleState,
    Source,
    ThresholdRule,
    Window,
)

PAGE = 50
VIEWS = {
    "firing": (
        "Firing",
        Q(state=Alert.State.FIRING, flapping_since__isnull=True, held_until__isnull=True),
    ),
    "flapping": ("Flapping", Q(flapping_since__isnull=False)),
    "maintenance": ("In maintenance", Q(held_until__isnull=False)),
    "recent": ("Recent", Q()),
}


def _alerts(request: AuthedRequest):
    return visible(
        Alert.objects.select_related("organization", "source", "ticket", "config_item"),
        request.user,
    )


@agent_required
def alerts(request: AuthedRequest) -> HttpResponse:
    """The alerts list, by view (firing, flapping, in maintenance, recent) and customer."""
    view = request.GET.get("view", "firing")
    if view not in VIEWS:
        view = "firing"
    rows = _alerts(request).filter(VIEWS[view][1])
    if view == "recent":
        rows = rows.filter(state_changed_at__gte=timezone.now() - timedelta(days=7))
    customer = request.GET.get("organization", "")
    if customer:
        rows = rows.filter(organization__slug=customer)
    found, next_url = paginate(
        request,
        rows,
        order=("-state_changed_at", "-id"),
        limit=PAGE,
        cursor=request.GET.get("cursor"),
    )
    counts = {
        name: _alerts(request).filter(q).count()
        for name, (_label, q) in VIEWS.items()
        if name != "recent"
    }
    return render(
        request,
        "monitoring/alerts.html",
        {
            "alerts": found,
            "next_url": next_url,
            "view": view,
            "views": [(name, label, counts.get(name)) for name, (label, _q) in VIEWS.items()],
            "customer": customer,
            "organizations": _alerts(request)
            .order_by("organization__name")
            .values_list("organization__slug", "organization__name")
            .distinct(),
        },
    )


@agent_required
def alert(request: AuthedRequest, alert_id: int) -> HttpResponse:
    found = get_object_or_404(_alerts(request), pk=alert_id)
    return render(
        request,
        "monitoring/alert.html",
        {"alert": found, "history": found.history.order_by("-at", "-id")[:200]},
    )


@agent_required
def sources(request: AuthedRequest) -> HttpResponse:
    """Sources, and (for managers) their machine tokens, with a form for a new token."""
    rows = visible(Source.objects.select_related("organization", "config_item"), request.user)
    tokens = visible(MachineToken.objects.select_related("organization", "source"), request.user)
    form = MachineTokenForm(user=request.user)
    return render(
        request,
        "monitoring/sources.html",
        {
            "sources": rows.order_by("organization__name", "name"),
            "tokens": tokens.order_by("-id"),
            "form": form,
        },
    )


@never_cache  # the answer shows the new secret once: no copy kept by a browser or proxy
@agent_required
@require_POST
def new_token(request: AuthedRequest) -> HttpResponse:
    form = MachineTokenForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            token, raw = actions.create_machine_token(request.user, **form.cleaned_data)
        except ActionError as exc:
            add_action_error(form, exc)
        else:
            return render(request, "monitoring/token.html", {"token": token, "raw": raw})
    rows = visible(Source.objects.select_related("organization"), request.user)
    tokens = visible(MachineToken.objects.select_related("organization", "source"), request.user)
    return render(
        request,
        "monitoring/sources.html",
        {"sources": rows, "tokens": tokens.order_by("-id"), "form": form},
        status=422,
    )


@agent_required
@require_POST
def revoke_token(request: AuthedRequest, machine_token_id: int) -> HttpResponse:
    token = get_object_or_404(
        visible(MachineToken.objects.all(), request.user), pk=machine_token_id
    )
    try:
        actions.revoke_machine_token(request.user, token)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Token {token.name} revoked: what sends with it is refused now.")
    return redirect("monitoring:sources")


@agent_required
def maintenance(request: AuthedRequest) -> HttpResponse:
    """Maintenance windows and their next occurrences, and a form for a new one."""
    form = WindowForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            actions.create_window(request.user, **form.cleaned_data)
        except ActionError as exc:
            add_action_error(form, exc)
        else:
            messages.success(
                request, "Window planned: alerts it covers open no incident while it lasts."
            )
            return redirect("monitoring:maintenance")
    now = timezone.now()
    rows = visible(
        Window.objects.filter(purpose=Window.Purpose.MAINTENANCE)
        .select_related("organization")
        .prefetch_related("config_items"),
        request.user,
    ).order_by("-starts_at")[:200]
    planned = [(w, list(windows.occurrences(w, now, now + timedelta(days=28)))[:6]) for w in rows]
    status = 422 if request.method == "POST" else 200
    return render(
        request, "monitoring/maintenance.html", {"windows": planned, "form": form}, status=status
    )


@agent_required
def maintenance_calendar(request: AuthedRequest) -> HttpResponse:
    """A month of maintenance occurrences (?month=YYYY-MM, ?organization=slug), then a list."""
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    error = ""
    try:
        first = calendar.parse_month(request.GET.get("month", ""), today)
    except Invalid as exc:
        first, error = today.replace(day=1), exc.message
    rows = visible(
        Window.objects.filter(purpose=Window.Purpose.MAINTENANCE).select_related("organization"),
        request.user,
    ).order_by("starts_at", "id")
    customer = request.GET.get("organization", "")
    if customer:
        rows = rows.filter(organization__slug=customer)
    organizations = (
        visible(Window.objects.filter(purpose=Window.Purpose.MAINTENANCE), request.user)
        .values_list("organization__slug", "organization__name")
        .distinct()
        .order_by("organization__name")
    )
    return render(
        request,
        "monitoring/calendar.html",
        {
            "month": calendar.month(rows, first, zone, today),
            "customer": customer,
            "organizations": organizations,
            "error": error,
            "zone": zone,
        },
        status=422 if error else 200,
    )


@agent_required
def item(request: AuthedRequest, item_id: int) -> HttpResponse:
    """A configuration item's state, uptime, what watches it and its alerts' history."""
    found = get_object_or_404(
        visible(ConfigItem.objects.select_related("organization"), request.user), pk=item_id
    )
    (status,) = queries.statuses([found], request.user)
    alerts_on = _alerts(request).filter(config_item=found).order_by("-state_changed_at", "-id")
    history = (
        visible(AlertEvent.objects.filter(alert__config_item=found), request.user)
        .select_related("alert")
        .order_by("-at", "-id")[:PAGE]
    )
    upcoming = queries.upcoming(
        visible(Window.objects.filter(purpose=Window.Purpose.MAINTENANCE), request.user)
        .filter(Q(config_items=found) | Q(whole_organization=True, organization=found.organization))
        .distinct()
    )
    return render(
        request,
        "monitoring/item.html",
        {
            "item": found,
            "status": status,
            "alerts": alerts_on[:PAGE],
            "history": history,
            "sources": visible(Source.objects.filter(config_item=found), request.user),
            "heartbeats": visible(Heartbeat.objects.filter(config_item=found), request.user),
            "rules": _rules_of(request, found),
            "upcoming": upcoming,
        },
    )


def _rules_of(request: AuthedRequest, found: ConfigItem) -> Any:
    """The threshold rules watching the item's series."""
    watching = RuleState.objects.filter(series__config_item=found).values("rule_id")
    rows = visible(ThresholdRule.objects.filter(pk__in=watching), request.user)
    return rows.order_by("name")[:PAGE]


def button_action(
    request: AuthedRequest, act, found: Any, done: str, page: str, after: str | None = None
) -> HttpResponse:
    """A watcher's button (pause, resume, run, delete): `act(user, found)`, its outcome as a
    message, back to the watcher's `page` (or to `after` once it succeeded, a deleted one's
    list)."""
    try:
        act(request.user, found)
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect(page, found.pk)
    messages.success(request, done.format(name=found.name))
    return redirect(after) if after else redirect(page, found.pk)
