"""The worker's SLA sweep: set-based, and safe with several workers on several machines.

One statement per batch both finds and claims the due clocks:
`UPDATE … WHERE id IN (<due ids>) AND state = 'running' AND … RETURNING id`. A row another
worker claimed first no longer matches, so each warning and breach is acted on exactly once;
the events and notifications of the batch are then written in bulk.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from sustain.core import context
from sustain.core.models import Event
from sustain.sla.models import Clock

BATCH = 2000

CLAIM_WARNINGS = """
UPDATE sla_clock SET warned_at = %s
WHERE id IN (SELECT id FROM sla_clock
             WHERE state = 'running' AND warned_at IS NULL AND warn_at <= %s
             ORDER BY warn_at LIMIT %s)
  AND state = 'running' AND warned_at IS NULL AND warn_at <= %s
RETURNING id
"""

CLAIM_BREACHES = """
UPDATE sla_clock SET state = 'breached', breached_at = due_at
WHERE id IN (SELECT id FROM sla_clock
             WHERE state = 'running' AND due_at <= %s
             ORDER BY due_at LIMIT %s)
  AND state = 'running' AND due_at <= %s
RETURNING id
"""


def _claim(sql: str, params: list) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _record(ids: list[int], verb: str, what: str) -> None:
    """The timeline events and the notifications of the clocks just claimed."""
    claimed = list(
        Clock.objects.filter(id__in=ids).select_related(
            "ticket__assignee",
            "ticket__team__lead",
            "ticket__organization",
            "ticket__requester",
            "ticket__parent",
        )
    )
    request_id = context.request_id.get()
    Event.objects.bulk_create(
        [
            Event(
                target_type="desk.ticket",
                target_id=clock.ticket_id,
                organization_id=clock.ticket.organization_id,
                verb=verb,
                is_public=False,
                request_id=request_id,
                after={
                    "metric": clock.metric,
                    "due_at": clock.due_at.isoformat() if clock.due_at else None,
                },
            )
            for clock in claimed
        ]
    )
    from sustain.desk import notifications
    from sustain.hooks.actions import active_subscriptions

    subscriptions = active_subscriptions()  # once for the batch
    for clock in claimed:
        notifications.sla_alert(clock, what, subscriptions=subscriptions)


def warn_due(now: datetime | None = None, limit: int = BATCH) -> int:
    """Warn once for every running clock past its warning instant."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = _claim(CLAIM_WARNINGS, [now, now, limit, now])
        if ids:
            _record(ids, "sla_warning", "warning")
    return len(ids)


def breach_due(now: datetime | None = None, limit: int = BATCH) -> int:
    """Mark every running clock past its due instant as breached, once."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = _claim(CLAIM_BREACHES, [now, limit, now])
        if ids:
            _record(ids, "sla_breached", "breach")
    return len(ids)


def sweep(now: datetime | None = None) -> tuple[int, int]:
    """All due warnings and breaches, batch after batch."""
    now = now or timezone.now()
    warned = breached = 0
    while done := warn_due(now):
        warned += done
    while done := breach_due(now):
        breached += done
    return warned, breached
