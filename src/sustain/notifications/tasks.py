"""Worker jobs of notifications: the daily digests, looked for every quarter of an hour."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from sustain.notifications import digest


@db_periodic_task(crontab(minute="*/15"))
def send_digests() -> int:
    return digest.send_due()
