"""Worker jobs of monitoring."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from sustain.monitoring import alerts, heartbeats


@db_periodic_task(crontab(minute="*"))
def settle_flapping() -> int:
    """Every minute: flapping alerts that have been stable long enough settle."""
    return alerts.stable_sweep()


@db_periodic_task(crontab(minute="*"))
def release_held_alerts() -> int:
    """Every minute: alerts whose maintenance window ended open their incident."""
    return alerts.release_sweep()


@db_periodic_task(crontab(minute="*"))
def heartbeat_deadlines() -> int:
    """Every minute: heartbeats past their deadline turn late, then down (raising an alert)."""
    return heartbeats.heartbeat_sweep()
