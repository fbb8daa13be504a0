"""Heartbeat pages for staff: the heartbeats list (status, last ping, next deadline, uptime
over 24 h / 7 d / 30 d, the last runs' durations as a sparkline, the ping URL with a curl
line to copy), one heartbeat with its last pings, and for managers the form to make or change
one and the pause, resume and delete buttons."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from sustain.core.access import agent_required, manager_required
from sustain.core.errors import ActionError
from sustain.core.forms import add_action_error
from sustain.core.http import AuthedRequest
from sustain.core.tenancy import visible
from sustain.monitoring import actions, uptime
from sustain.monitoring.forms import HeartbeatForm
from sustain.monitoring.heartbeat_api import ping_url
from sustain.monitoring.models import Heartbeat, Ping
from sustain.monitoring.sparkline import sparkline
from sustain.monitoring.views import button_action

PAGE = 200
PINGS = 50
RUNS = 30  # runs in a sparkline


def _heartbeats(request: AuthedRequest):
    return visible(
        Heartbeat.objects.select_related("organization", "config_item", "source"), request.user
    )


def run_durations(heartbeat_ids: list[int], runs: int = RUNS) -> dict[int, list[float | None]]:
    """The last `runs` ended runs (success or failure pings) of each heartbeat, oldest first,
    in seconds (None where the run's start was not reported): one query for all."""
    ranked = (
        Ping.objects.filter(
            heartbeat_id__in=heartbeat_ids, kind__in=(Ping.Kind.SUCCESS, Ping.Kind.FAIL)
        )
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("heartbeat_id")], order_by=[F("at").desc()])
        )
        .filter(rank__lte=runs)
        .values_list("heartbeat_id", "at", "duration")
    )
    result: dict[int, list[tuple]] = {pk: [] for pk in heartbeat_ids}
    for heartbeat_id, at, duration in ranked:
        result[heartbeat_id].append((at, duration))
    return {
        pk: [d.total_seconds() if d is not None else None for _at, d in sorted(rows)]
        for pk, rows in result.items()
    }


def _decorate(rows: list[Heartbeat]) -> None:
    """Uptime and the durations' sparkline on each row (a fixed number of queries)."""
    figures = uptime.for_sources([h.source for h in rows])
    durations = run_durations([h.pk for h in rows])
    for row in rows:
        row.uptimes = list(figures[row.source_id].items())  # type: ignore[attr-defined]
        runs = durations[row.pk]
        row.runs = runs  # type: ignore[attr-defined]
        row.spark = sparkline(  # type: ignore[attr-defined]
            runs, title=f"Duration of the last {len(runs)} runs of {row.name}"
        )


@agent_required
def heartbeats(request: AuthedRequest) -> HttpResponse:
    rows = list(_heartbeats(request).order_by("organization__name", "name")[:PAGE])
    _decorate(rows)
    for row in rows:
        row.ping_url = ping_url(row)  # type: ignore[attr-defined]
    return render(request, "monitoring/heartbeats.html", {"heartbeats": rows})


@agent_required
def heartbeat(request: AuthedRequest, heartbeat_id: int) -> HttpResponse:
    found = get_object_or_404(_heartbeats(request), pk=heartbeat_id)
    _decorate([found])
    pings = found.pings.order_by("-at", "-id")[:PINGS]
    return render(
        request,
        "monitoring/heartbeat.html",
        {"heartbeat": found, "pings": pings, "ping_url": ping_url(found)},
    )


def _form_page(request: AuthedRequest, form: HeartbeatForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "monitoring/heartbeat_form.html",
        {"form": form, "heartbeat": form.heartbeat},
        status=status,
    )


@manager_required
def heartbeat_new(request: AuthedRequest) -> HttpResponse:
    form = HeartbeatForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        settings = form.settings()
        try:
            made = actions.create_heartbeat(
                request.user, form.cleaned_data["organization"], **settings
            )
        except ActionError as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, f"Heartbeat {made.name} made: it waits for its first ping.")
            return redirect("monitoring:heartbeat", made.pk)
    return _form_page(request, form, 422 if request.method == "POST" else 200)


@manager_required
def heartbeat_edit(request: AuthedRequest, heartbeat_id: int) -> HttpResponse:
    found = get_object_or_404(_heartbeats(request), pk=heartbeat_id)
    form = HeartbeatForm(request.POST or None, user=request.user, heartbeat=found)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_heartbeat(request.user, found, form.settings())
        except ActionError as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, f"Heartbeat {found.name} changed.")
            return redirect("monitoring:heartbeat", found.pk)
    return _form_page(request, form, 422 if request.method == "POST" else 200)


def _act(
    request: AuthedRequest, heartbeat_id: int, act, done: str, after: str | None = None
) -> HttpResponse:
    found = get_object_or_404(_heartbeats(request), pk=heartbeat_id)
    return button_action(request, act, found, done, "monitoring:heartbeat", after)


@manager_required
@require_POST
def heartbeat_pause(request: AuthedRequest, heartbeat_id: int) -> HttpResponse:
    done = "Heartbeat {name} paused: no deadline, no alert (its pings are still kept)."
    return _act(request, heartbeat_id, actions.pause, done)


@manager_required
@require_POST
def heartbeat_resume(request: AuthedRequest, heartbeat_id: int) -> HttpResponse:
    done = "Heartbeat {name} resumed: its deadline runs from its next ping."
    return _act(request, heartbeat_id, actions.resume, done)


@manager_required
@require_POST
def heartbeat_delete(request: AuthedRequest, heartbeat_id: int) -> HttpResponse:
    done = "Heartbeat {name} deleted; its incidents stay."
    return _act(request, heartbeat_id, actions.delete_heartbeat, done, "monitoring:heartbeats")
