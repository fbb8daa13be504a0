"""Recomputing the clocks of open tickets after a calendar or policy edit, in batches.

Each batch reads its tickets, their clocks and their status events in three queries and
writes the clocks back in bulk, so 100,000 open tickets take seconds, not hours.

Each edit writes a RecomputeRun with the change (sla.actions); `run()` claims it with a
conditional UPDATE (one worker only), records how many tickets it covers and how many are
done after each batch, so the SLA pages show the progress; `resume_stale()` (the minute
sweep) runs those whose task never came or whose worker died.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from sustain.core.models import Event
from sustain.desk.models import OPEN_STATUSES, Ticket
from sustain.sla import clocks
from sustain.sla.config import current
from sustain.sla.models import Clock, RecomputeRun

BATCH = 1000
# A run not started this long after its change lost its task; one started but silent this
# long lost its worker. Either is taken over by the sweep.
UNCLAIMED_AFTER = timedelta(minutes=1)
SILENT_AFTER = timedelta(minutes=10)
FIELDS = [
    "policy",
    "state",
    "target_seconds",
    "elapsed_seconds",
    "counted_until",
    "due_at",
    "warn_at",
]


def open_tickets(calendar_id: int | None, everything: bool) -> QuerySet[Ticket]:
    tickets = Ticket.objects.filter(status__in=OPEN_STATUSES)
    if not everything and calendar_id is not None:
        governed = Clock.objects.filter(policy__calendar_id=calendar_id).values("ticket_id")
        tickets = tickets.filter(id__in=governed)
    return tickets


def recompute_batch(ids: list[int], now: datetime) -> int:
    config = current()
    with transaction.atomic():
        existing: dict[int, list[Clock]] = defaultdict(list)
        for clock in Clock.objects.filter(ticket_id__in=ids):
            existing[clock.ticket_id].append(clock)
        rows: dict[int, list[tuple[datetime, dict]]] = defaultdict(list)
        events = Event.objects.filter(target_type="desk.ticket", target_id__in=ids).order_by(
            "target_id", "id"
        )
        for target_id, created_at, after in events.values_list("target_id", "created_at", "after"):
            rows[target_id].append((created_at, after))
        changed: list[Clock] = []
        moved: list[Ticket] = []  # tickets whose next-due columns change
        for ticket in Ticket.objects.filter(id__in=ids).select_related("affected_ci"):
            before = (ticket.sla_due_at, ticket.sla_warn_at)
            history = clocks.history_from(ticket.created_at, rows[ticket.pk])
            changed += clocks.recompute(
                ticket,
                now,
                config=config,
                history=history,
                existing=existing[ticket.pk],
                save=False,
            )
            if (ticket.sla_due_at, ticket.sla_warn_at) != before:
                moved.append(ticket)
        Clock.objects.bulk_create([c for c in changed if c.pk is None])
        _write([c for c in changed if c.pk is not None])
        _write_next_due(moved)
    return len(ids)


UPDATE_SQL = (
    "UPDATE sla_clock SET policy_id = %s, state = %s, target_seconds = %s, elapsed_seconds = %s,"
    " counted_until = %s, due_at = %s, warn_at = %s, counting = %s WHERE id = %s"
)


def _write(clocks_to_save: list[Clock]) -> None:
    """One prepared UPDATE run for many rows (Django's bulk_update builds a huge CASE instead)."""
    when = connection.ops.adapt_datetimefield_value
    rows = [
        (
            c.policy_id,
            c.state,
            c.target_seconds,
            c.elapsed_seconds,
            when(c.counted_until),
            when(c.due_at),
            when(c.warn_at),
            c.counting,
            c.pk,
        )
        for c in clocks_to_save
    ]
    with connection.cursor() as cursor:
        cursor.executemany(UPDATE_SQL, rows)


NEXT_DUE_SQL = "UPDATE desk_ticket SET sla_due_at = %s, sla_warn_at = %s WHERE id = %s"


def _write_next_due(tickets: list[Ticket]) -> None:
    """The queues' next-due columns of the recomputed tickets (sla.clocks.next_due)."""
    when = connection.ops.adapt_datetimefield_value
    rows = [(when(t.sla_due_at), when(t.sla_warn_at), t.pk) for t in tickets]
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(NEXT_DUE_SQL, rows)


def recompute_all(
    calendar_id: int | None = None, everything: bool = False, now: datetime | None = None
) -> int:
    """Recompute every open ticket concerned, BATCH tickets per transaction; returns the count."""
    now = now or timezone.now()
    ids = list(open_tickets(calendar_id, everything).order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), BATCH):
        recompute_batch(ids[start : start + BATCH], now)
    return len(ids)


def run(run_id: int, now: datetime | None = None) -> int:
    """Carry out one RecomputeRun if nobody has claimed it; returns the tickets recomputed."""
    claimed_at = timezone.now()
    if not RecomputeRun.objects.filter(pk=run_id, started_at__isnull=True).update(
        started_at=claimed_at, beat_at=claimed_at
    ):
        return 0
    return _carry_out(RecomputeRun.objects.get(pk=run_id), now)


def _carry_out(row: RecomputeRun, now: datetime | None) -> int:
    now = now or timezone.now()
    tickets = open_tickets(row.calendar_id, row.everything or row.calendar_id is None)
    ids = list(tickets.order_by("id").values_list("id", flat=True))
    RecomputeRun.objects.filter(pk=row.pk).update(total=len(ids), done=0)
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        recompute_batch(batch, now)
        RecomputeRun.objects.filter(pk=row.pk).update(
            done=start + len(batch), beat_at=timezone.now()
        )
    RecomputeRun.objects.filter(pk=row.pk).update(finished_at=timezone.now())
    return len(ids)


def resume_stale(now: datetime | None = None) -> int:
    """Runs whose task was lost (never started) or whose worker died (silent): claim each with
    a conditional UPDATE on what was read, so two sweeping workers never both take one."""
    now = now or timezone.now()
    taken = 0
    stale = RecomputeRun.objects.filter(finished_at__isnull=True).filter(
        models.Q(started_at__isnull=True, created_at__lte=now - UNCLAIMED_AFTER)
        | models.Q(beat_at__lte=now - SILENT_AFTER)
    )
    for row in stale.order_by("id")[:10]:
        claimed = RecomputeRun.objects.filter(pk=row.pk, beat_at=row.beat_at).update(
            started_at=row.started_at or now, beat_at=now
        )
        if claimed:
            taken += _carry_out(row, None)
    return taken


def unfinished() -> QuerySet[RecomputeRun]:
    return RecomputeRun.objects.filter(finished_at__isnull=True)
