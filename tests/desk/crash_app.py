"""Sustain's WSGI application for the idempotency crash test, with one stall: the first
ticket created blocks its request, either before the transaction commits (CRASH_STAGE=write)
or just after (CRASH_STAGE=commit), and writes the worker's pid to CRASH_MARK so the test
knows whom to kill. Later requests (the retries) run normally. Test code only: it is loaded
by the gunicorn the test starts, never by Sustain."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()

from django.db import transaction  # noqa: E402
from django.db.models.signals import post_save  # noqa: E402

from sustain.desk.models import Ticket  # noqa: E402

MARK = Path(os.environ["CRASH_MARK"])


def _stall() -> None:
    if MARK.exists():
        return  # only the first request stalls
    MARK.write_text(str(os.getpid()))
    time.sleep(600)  # until SIGKILL


def _created(sender, instance, created, **kwargs):
    if not created:
        return
    if os.environ["CRASH_STAGE"] == "write":
        _stall()  # the ticket's row is written, nothing committed
    else:
        transaction.on_commit(_stall)  # committed, the answer not yet sent


post_save.connect(_created, sender=Ticket, weak=False)
