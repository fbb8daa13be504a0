"""Worker jobs of the SLA engine."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from sustain.sla import sweep


@db_periodic_task(crontab(minute="*"))
def sweep_clocks() -> tuple[int, int, int, int]:
    """Every minute: warnings and breaches, then escalation levels and unanswered pages."""
    from sustain.sla import escalation

    warned, breached = sweep.sweep()
    return warned, breached, escalation.escalate_due(), escalation.escalate_pages()


@db_task()
def recompute_open_tickets(calendar_id: int | None = None, everything: bool = False) -> int:
    from sustain.sla.recompute import recompute_all

    return recompute_all(calendar_id=calendar_id, everything=everything)
