"""Worker jobs of the SLA engine."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from sustain.sla import sweep


@db_periodic_task(crontab(minute="*"))
def sweep_clocks() -> tuple[int, int, int, int]:
    """Every minute: warnings and breaches, then escalation levels and unanswered pages."""
    from sustain.sla import escalation, recompute

    recompute.resume_stale()
    warned, breached = sweep.sweep()
    return warned, breached, escalation.escalate_due(), escalation.escalate_pages()


@db_task()
def recompute_open_tickets(
    calendar_id: int | None = None, everything: bool = False, run_id: int | None = None
) -> int:
    """Carry out the RecomputeRun an edit wrote (or, without one, recompute at once)."""
    from sustain.sla import recompute

    if run_id is not None:
        return recompute.run(run_id)
    return recompute.recompute_all(calendar_id=calendar_id, everything=everything)
