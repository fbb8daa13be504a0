"""The worker's SLA sweep: set-based, and safe with several workers on several machines.

One indexed query finds the clocks due for a warning or a breach; each is claimed with a
conditional UPDATE (`… WHERE state = 'running' AND due_at = <seen>`), so a warning or a breach
is acted on exactly once however many sweeps run at the same time.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from sustain.core import events, notify
from sustain.sla.models import Clock


def _notify(clock: Clock, what: str) -> None:
    ticket = clock.ticket
    people = [ticket.assignee] if ticket.assignee_id else []
    if not people and ticket.team is not None and ticket.team.lead is not None:
        people = [ticket.team.lead]
    notify.email(
        [p.email for p in people if p is not None and p.is_active],
        f"sla/mail/{what}",
        {"ticket": ticket, "clock": clock},
        dedupe_key=f"sla-{what}:{clock.pk}:{clock.started_at.isoformat()}",
    )


def warn_due(now: datetime | None = None, limit: int = 5000) -> int:
    """Warn once for every running clock past its warning instant."""
    now = now or timezone.now()
    found = list(
        Clock.objects.filter(state=Clock.State.RUNNING, warned_at__isnull=True, warn_at__lte=now)
        .order_by("warn_at")
        .values_list("id", flat=True)[:limit]
    )
    done = 0
    for clock_id in found:
        with transaction.atomic():
            claimed = Clock.objects.filter(
                pk=clock_id, state=Clock.State.RUNNING, warned_at__isnull=True
            ).update(warned_at=now)
            if not claimed:
                continue
            clock = Clock.objects.select_related("ticket__assignee", "ticket__team__lead").get(
                pk=clock_id
            )
            events.record(
                clock.ticket,
                "sla_warning",
                is_public=False,
                after={
                    "metric": clock.metric,
                    "due_at": clock.due_at.isoformat() if clock.due_at else None,
                },
            )
            _notify(clock, "warning")
            done += 1
    return done


def breach_due(now: datetime | None = None, limit: int = 5000) -> int:
    """Mark every running clock past its due instant as breached, once."""
    now = now or timezone.now()
    found = list(
        Clock.objects.filter(state=Clock.State.RUNNING, due_at__lte=now)
        .order_by("due_at")
        .values_list("id", "due_at")[:limit]
    )
    done = 0
    for clock_id, due_at in found:
        with transaction.atomic():
            claimed = Clock.objects.filter(
                pk=clock_id, state=Clock.State.RUNNING, due_at=due_at
            ).update(state=Clock.State.BREACHED, breached_at=due_at)
            if not claimed:
                continue
            clock = Clock.objects.select_related("ticket__assignee", "ticket__team__lead").get(
                pk=clock_id
            )
            events.record(
                clock.ticket,
                "sla_breached",
                is_public=False,
                after={"metric": clock.metric, "due_at": str(due_at)},
            )
            _notify(clock, "breach")
            done += 1
    return done


def sweep(now: datetime | None = None) -> tuple[int, int]:
    now = now or timezone.now()
    return warn_due(now), breach_due(now)
