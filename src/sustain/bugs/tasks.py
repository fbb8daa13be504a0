"""Worker jobs of the bug tracker."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from sustain.bugs import triage


@db_periodic_task(crontab(minute="*"))
def sweep_triage() -> int:
    """Every minute: new bugs past their triage deadline are flagged, and their lead told, once."""
    return triage.sweep()
