"""The triage clock: how long a new bug may wait, in business time, and the sweep that flags
the overdue ones once.

Targets come from TriageTarget rows (minutes per severity, optionally in a calendar's business
hours). A severity without a row uses DEFAULT_MINUTES around the clock (24×7); there is no data
migration, so deleting a row returns its severity to the default.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from sustain.bugs import notifications
from sustain.bugs.models import Bug, Severity, TriageTarget
from sustain.core import businesstime, context
from sustain.core.businesstime import Schedule
from sustain.core.models import Event

DEFAULT_MINUTES: dict[str, int] = {
    Severity.BLOCKER: 60,
    Severity.CRITICAL: 4 * 60,
    Severity.MAJOR: 8 * 60,  # one business day
    Severity.MINOR: 3 * 24 * 60,
    Severity.TRIVIAL: 5 * 24 * 60,
}
ALWAYS = Schedule(always=True)
BATCH = 500


def target_for(severity: str) -> tuple[int, Schedule]:
    """(minutes, schedule) of the triage target of `severity`."""
    target = TriageTarget.objects.filter(severity=severity).first()
    if target is None:
        return DEFAULT_MINUTES.get(severity, DEFAULT_MINUTES[Severity.MAJOR]), ALWAYS
    if target.calendar_id is None:
        return target.minutes, ALWAYS
    from sustain.sla.config import current

    schedule = current().schedules.get(target.calendar_id, ALWAYS)
    return target.minutes, schedule


def due_at(severity: str, start: datetime) -> datetime:
    """When a bug of `severity` reported at `start` must be triaged."""
    minutes, schedule = target_for(severity)
    return businesstime.add(schedule, start, minutes * 60)


def clock(bug: Bug, now: datetime | None = None) -> dict[str, object]:
    """What the triage queue shows: due, overdue, or stopped (left status new)."""
    now = now or timezone.now()
    if bug.status != "new" or bug.triage_due_at is None:
        return {"state": "stopped", "due_at": bug.triage_due_at}
    overdue = bug.triage_due_at <= now
    return {
        "state": "overdue" if overdue else "due",
        "due_at": bug.triage_due_at,
        "seconds": abs((bug.triage_due_at - now).total_seconds()),
    }


# Finds and claims in one statement: a bug another worker claimed first no longer matches, so
# each overdue bug is flagged and its people told exactly once (the partial index
# bug_triage_due_idx serves the inner SELECT).
CLAIM_OVERDUE = """
UPDATE bugs_bug SET triage_breached_at = %s
WHERE id IN (SELECT id FROM bugs_bug
             WHERE status = 'new' AND triage_breached_at IS NULL AND triage_due_at <= %s
             ORDER BY triage_due_at LIMIT %s)
  AND status = 'new' AND triage_breached_at IS NULL AND triage_due_at <= %s
RETURNING id
"""


def flag_overdue(now: datetime | None = None, limit: int = BATCH) -> int:
    """One batch: mark new bugs past their triage deadline, record the event, tell the lead."""
    now = now or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(CLAIM_OVERDUE, [now, now, limit, now])
            ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return 0
        bugs = list(Bug.objects.filter(id__in=ids).select_related("team__lead"))
        request_id = context.request_id.get()
        Event.objects.bulk_create(
            [
                Event(
                    target_type="bugs.bug",
                    target_id=bug.pk,
                    verb="triage_overdue",
                    is_public=False,
                    request_id=request_id,
                    after={"due_at": bug.triage_due_at.isoformat() if bug.triage_due_at else None},
                )
                for bug in bugs
            ]
        )
        for bug in bugs:
            notifications.triage_overdue(bug)
    return len(ids)


def sweep(now: datetime | None = None) -> int:
    now = now or timezone.now()
    total = 0
    while done := flag_overdue(now):
        total += done
    return total
