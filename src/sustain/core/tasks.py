"""Worker jobs of core: outbox delivery, woken on commit and swept every minute."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from sustain.core import outbox


@db_task()
def deliver_outbox() -> int:
    return outbox.deliver_due()


@db_periodic_task(crontab(minute="*"))
def sweep_outbox() -> int:
    """Retries and anything whose wake-up was lost."""
    return outbox.deliver_due()
