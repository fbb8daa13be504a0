"""Heartbeat pages for staff: the heartbeats list (status, last ping, next deadline, the ping
URL with a curl line to copy) and one heartbeat with its last pings."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from sustain.core.access import agent_required
from sustain.core.http import AuthedRequest
from sustain.core.tenancy import visible
from sustain.monitoring.heartbeat_api import ping_url
from sustain.monitoring.models import Heartbeat

PAGE = 200
PINGS = 50


def _heartbeats(request: AuthedRequest):
    return visible(Heartbeat.objects.select_related("organization", "config_item"), request.user)


@agent_required
def heartbeats(request: AuthedRequest) -> HttpResponse:
    rows = list(_heartbeats(request).order_by("organization__name", "name")[:PAGE])
    for row in rows:
        row.ping_url = ping_url(row)  # type: ignore[attr-defined]
    return render(request, "monitoring/heartbeats.html", {"heartbeats": rows})


@agent_required
def heartbeat(request: AuthedRequest, heartbeat_id: int) -> HttpResponse:
    found = get_object_or_404(_heartbeats(request), pk=heartbeat_id)
    pings = found.pings.order_by("-at", "-id")[:PINGS]
    return render(
        request,
        "monitoring/heartbeat.html",
        {"heartbeat": found, "pings": pings, "ping_url": ping_url(found)},
    )
