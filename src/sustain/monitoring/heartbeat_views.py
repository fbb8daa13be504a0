"""Heartbeat pages for staff: the heartbeats list (status, last ping, next deadline, uptime
over 24 h / 7 d / 30 d, the last runs' durations as a sparkline, the ping URL with a curl
line to copy) and one heartbeat with its last pings."""

from __future__ import annotations

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from sustain.core.access import agent_required
from sustain.core.http import AuthedRequest
from sustain.core.tenancy import visible
from sustain.monitoring import uptime
from sustain.monitoring.heartbeat_api import ping_url
from sustain.monitoring.models import Heartbeat, Ping
from sustain.monitoring.sparkline import sparkline

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
