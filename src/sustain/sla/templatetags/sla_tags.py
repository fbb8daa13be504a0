"""The SLA badge of a ticket: green, amber (past the warning) or red (breached), time left in
short words."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

from sustain.core.relative import span
from sustain.sla.clocks import nearest_due
from sustain.sla.models import Clock

register = template.Library()
LABELS = {"first_response": "response", "next_update": "update", "resolution": "resolution"}


def _when(moment: Any) -> str:
    """The exact instant in the viewer's zone, with the zone's name."""
    local = timezone.localtime(moment)
    return f"{date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"


@register.filter
def sla_badge(ticket: Any) -> SafeString | str:
    """The ticket's most urgent clock in short words: "response in 2 h", "resolution overdue
    3 d" (core.relative), its exact instant in the viewer's zone as the title."""
    clocks = list(ticket.clocks.all())
    now = timezone.now()
    late = [c for c in clocks if c.state == Clock.State.BREACHED and c.met_at is None]
    if late:
        worst = min(late, key=lambda c: c.breached_at or now)
        return format_html(
            '<span class="sla sla-red" title="{} breached {}">{} overdue {}</span>',
            worst.get_metric_display(),
            _when(worst.breached_at or now),
            LABELS[worst.metric],
            span((now - (worst.breached_at or now)).total_seconds()),
        )
    clock = nearest_due(clocks)
    if clock is None or clock.due_at is None:
        return ""
    if clock.due_at <= now:  # past due, before the sweep marked it
        return format_html(
            '<span class="sla sla-red" title="{} due {}">{} overdue {}</span>',
            clock.get_metric_display(),
            _when(clock.due_at),
            LABELS[clock.metric],
            span((now - clock.due_at).total_seconds()),
        )
    level = "amber" if clock.warn_at is None or clock.warn_at <= now else "green"
    return format_html(
        '<span class="sla sla-{}" title="{} due {}">{} in {}</span>',
        level,
        clock.get_metric_display(),
        _when(clock.due_at),
        LABELS[clock.metric],
        span((clock.due_at - now).total_seconds()),
    )


@register.filter
def business_minutes(minutes: int) -> str:
    """A target in words: 45 min, 4 h, 2 h 30 min (business time)."""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"
