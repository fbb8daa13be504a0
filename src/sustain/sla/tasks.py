"""Worker jobs of the SLA engine."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from sustain.sla import sweep


@db_periodic_task(crontab(minute="*"))
def sweep_clocks() -> tuple[int, int]:
    return sweep.sweep()
