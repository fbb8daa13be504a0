"""Recomputing the clocks of open tickets after a calendar or policy edit, in batches."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sustain.desk.models import OPEN_STATUSES, Ticket
from sustain.sla import clocks

BATCH = 500


def open_tickets(calendar_id: int | None, everything: bool):
    tickets = Ticket.objects.filter(status__in=OPEN_STATUSES)
    if not everything and calendar_id is not None:
        tickets = tickets.filter(Q(clocks__policy__calendar_id=calendar_id)).distinct()
    return tickets


def recompute_all(
    calendar_id: int | None = None, everything: bool = False, now: datetime | None = None
) -> int:
    """Recompute every open ticket concerned, BATCH tickets per transaction; returns the count."""
    now = now or timezone.now()
    ids = list(open_tickets(calendar_id, everything).order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            batch = Ticket.objects.filter(id__in=ids[start : start + BATCH]).select_related(
                "affected_ci"
            )
            for ticket in batch:
                clocks.recompute(ticket, now)
    return len(ids)
