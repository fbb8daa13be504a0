"""Template helpers of the monitoring pages: uptime colours, an alert history for a ticket."""

from __future__ import annotations

from typing import Any

from django import template

from sustain.monitoring.models import AlertEvent
from sustain.monitoring.uptime import Uptime

register = template.Library()
HISTORY_MAX = 100


@register.filter
def uptime_class(value: Uptime | None) -> str:
    """good (99.9 % or more), fair (99 %), poor (below), or none (not observed)."""
    if value is None or value.percent is None:
        return "up-none"
    if value.percent >= 99.9:
        return "up-good"
    return "up-fair" if value.percent >= 99 else "up-poor"


@register.simple_tag
def alert_history(alerts: Any) -> list[AlertEvent]:
    """The history of the given alerts, oldest first (the last HISTORY_MAX events)."""
    ids = [a.pk for a in alerts]
    rows = AlertEvent.objects.filter(alert_id__in=ids).select_related("alert")
    return list(reversed(rows.order_by("-at", "-id")[:HISTORY_MAX]))
