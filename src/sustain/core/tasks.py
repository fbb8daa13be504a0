"""Worker jobs of core: outbox delivery, woken on commit and swept every minute; the purge
of old Idempotency-Key records."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task, on_startup

from sustain.core import idempotency, outbox

# A message due again within this (a retry's first backoffs, the lease of a message whose
# worker died) is woken for on time rather than at the next minute's sweep.
FOLLOW_UP = timedelta(seconds=60)


# One delivery runs at a time in a worker process: a wake-up that finds it running asks it
# to look once more instead of querying the same rows beside it.
_delivering = threading.Lock()
_again = threading.Event()


@db_task()
def deliver_outbox() -> int:
    _again.set()
    sent = 0
    while _again.is_set() and _delivering.acquire(blocking=False):
        try:
            while _again.is_set():
                _again.clear()
                sent += outbox.deliver_due()
                if not HUEY.immediate and not _again.is_set():
                    # What a woken-up process committed inside its wake window (outbox).
                    time.sleep(outbox.LOOK_AGAIN)
                    sent += outbox.deliver_due()
        finally:
            _delivering.release()
    _follow_up()
    return sent


@db_periodic_task(crontab(minute="*"))
def sweep_outbox() -> int:
    """Retries and anything whose wake-up was lost."""
    sent = outbox.deliver_due()
    _follow_up()
    return sent


def _follow_up() -> None:
    if HUEY.immediate:  # tests drive delivery themselves
        return
    due = outbox.next_due(FOLLOW_UP)
    if due is not None:
        deliver_outbox.schedule(eta=due + timedelta(milliseconds=200))


@on_startup()
def resume_outbox() -> None:
    """A worker that starts (or restarts after a crash) finishes what is due at once."""
    if not HUEY.immediate:
        deliver_outbox()


@db_periodic_task(crontab(minute="17"))
def purge_idempotency_keys() -> int:
    """Old Idempotency-Key records (SUSTAIN_IDEMPOTENCY_RETENTION_HOURS) go: hourly."""
    return idempotency.purge()
