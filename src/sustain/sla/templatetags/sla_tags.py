"""The SLA badge of a ticket: green, amber (past the warning) or red (breached), time left in words."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil

from sustain.sla.clocks import nearest_due
from sustain.sla.models import Clock

register = template.Library()
LABELS = {"first_response": "response", "next_update": "update", "resolution": "resolution"}


@register.filter
def sla_badge(ticket: Any) -> SafeString | str:
    clocks = list(ticket.clocks.all())
    now = timezone.now()
    late = [c for c in clocks if c.state == Clock.State.BREACHED and c.met_at is None]
    if late:
        worst = min(late, key=lambda c: c.breached_at or now)
        return format_html(
            '<span class="sla sla-red" title="{} breached">{} overdue {}</span>',
            worst.get_metric_display(),
            LABELS[worst.metric],
            timesince(worst.breached_at or now, now),
        )
    clock = nearest_due(clocks)
    if clock is None or clock.due_at is None:
        return ""
    level = "amber" if clock.warn_at is None or clock.warn_at <= now else "green"
    if clock.due_at <= now:
        level = "red"
    return format_html(
        '<span class="sla sla-{}" title="{} due {}">{} in {}</span>',
        level,
        clock.get_metric_display(),
        clock.due_at.isoformat(),
        LABELS[clock.metric],
        timeuntil(clock.due_at, now),
    )


@register.filter
def business_minutes(minutes: int) -> str:
    """A target in words: 45 min, 4 h, 2 h 30 min (business time)."""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"
