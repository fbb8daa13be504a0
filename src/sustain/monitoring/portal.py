"""The customer portal's status page: the organization's watched services, whether each is
up, down or in maintenance, their uptime over 24 h / 7 d / 30 d, and the maintenance planned.
Scoped by `visible()` like every portal page: a customer sees only their organization's."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from sustain.cmdb.models import ConfigItem
from sustain.core.http import AuthedRequest
from sustain.core.tenancy import visible
from sustain.monitoring import queries
from sustain.monitoring.models import Window


@login_required
def status(request: AuthedRequest) -> HttpResponse:
    now = timezone.now()
    items = queries.watched(
        visible(ConfigItem.objects.select_related("organization"), request.user).exclude(
            status=ConfigItem.Status.RETIRED
        )
    ).order_by("organization__name", "name", "id")[: queries.ITEMS_MAX]
    rows = queries.statuses(list(items), request.user, now=now)
    upcoming = queries.upcoming(
        visible(
            Window.objects.filter(purpose=Window.Purpose.MAINTENANCE).select_related(
                "organization"
            ),
            request.user,
        ),
        now=now,
    )
    return render(
        request,
        "portal/status.html",
        {
            "rows": rows,
            "upcoming": upcoming,
            "down": sum(1 for r in rows if r.state == "down"),
            "now": now,
        },
    )
