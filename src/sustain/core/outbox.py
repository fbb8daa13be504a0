"""The outbox: side effects written with the action, delivered by the worker with retries."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from sustain.core.models import OutboxMessage

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]
HANDLERS: dict[str, Handler] = {}
MAX_ATTEMPTS = 8
# How long a claimed message is held by the worker delivering it. A worker that dies mid-way
# (SIGKILL, power loss) leaves the message pending: another worker takes it once the lease is
# over, so it must outlast the slowest delivery (webhooks time out after WEBHOOK_TIMEOUT).
LEASE = timedelta(seconds=getattr(settings, "OUTBOX_LEASE_SECONDS", 300))
_paused: ContextVar[bool] = ContextVar("outbox_paused", default=False)


@contextmanager
def paused() -> Iterator[None]:
    """Drop what is enqueued inside the block: demo and bulk loads notify nobody."""
    token = _paused.set(True)
    try:
        yield
    finally:
        _paused.reset(token)


class GiveUp(Exception):
    """Raised by a handler when retrying cannot help (the webhook subscription was deleted or
    disabled): the message is marked dead at once, with the reason."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that delivers messages of `kind`."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def enqueue(
    kind: str,
    payload: dict[str, Any],
    *,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> None:
    """Write a message in the current transaction; wake the worker once it commits.

    `not_before` holds delivery until then (notifications kept to working hours).
    """
    if _paused.get():
        return
    message = OutboxMessage(
        kind=kind,
        payload=payload,
        dedupe_key=dedupe_key,
        next_attempt_at=not_before or timezone.now(),
    )
    # A message already queued under the same key (this event, queued before) is kept as it is:
    # INSERT … ON CONFLICT DO NOTHING, with no savepoint around it.
    OutboxMessage.objects.bulk_create([message], ignore_conflicts=dedupe_key is not None)
    _wake_once()


def _wake_once() -> None:
    """One wake-up per transaction, however many messages it wrote."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        entry[1] is _wake_worker for entry in connection.run_on_commit
    ):
        return
    transaction.on_commit(_wake_worker)


# A process wakes the worker at most once within WAKE_WINDOW: the worker's delivery looks
# again LOOK_AGAIN after it runs dry (core.tasks.deliver_outbox), longer than the window, so
# a message committed inside it is still seen. Busy processes then queue one task per window,
# not one per message: each wake-up is a write to the task queue in the web process and a
# task, a claim query and a sleep in the worker (at 50 ms, nearly one per ticket created at
# 100/s over five web processes; a mail is not held for a fifth of a second that matters).
WAKE_WINDOW = 0.2
LOOK_AGAIN = 0.25
_last_wake = -WAKE_WINDOW
_wake_lock = threading.Lock()


def _wake_worker() -> None:
    global _last_wake
    from sustain.core.tasks import HUEY, deliver_outbox

    if not HUEY.immediate:  # tests deliver at once, every time
        with _wake_lock:
            now = time.monotonic()
            if now - _last_wake < WAKE_WINDOW:
                return
            _last_wake = now
    try:
        deliver_outbox()
    except Exception:  # the periodic sweep delivers it anyway
        log.exception("could not queue outbox delivery")


def deliver_now(kind: str, items: list[tuple[dict[str, Any], str]]) -> list[OutboxMessage]:
    """Deliver each (payload, dedupe key) at once, outside any transaction; return the rows that
    record it, for `record` to write: sent, to be retried (with its backoff), or dead."""
    rows = []
    for payload, key in items:
        now = timezone.now()
        row = OutboxMessage(kind=kind, payload=payload, dedupe_key=key, next_attempt_at=now)
        row.attempts = 1
        try:
            HANDLERS[kind](payload)
        except GiveUp as exc:
            row.state, row.last_error = OutboxMessage.State.DEAD, f"given up: {exc}"[:2000]
        except Exception as exc:
            log.warning("outbox %s delivery failed: %s", key, exc)
            row.next_attempt_at = now + backoff(1)
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        else:
            row.state, row.sent_at = OutboxMessage.State.SENT, timezone.now()
        rows.append(row)
    return rows


def record(rows: list[OutboxMessage]) -> None:
    """Write what deliver_now did (a key recorded already is kept as it is)."""
    if rows:
        OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
        if any(row.state == OutboxMessage.State.PENDING for row in rows):
            _wake_once()


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at 2 hours."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 7200))


def claim(message_id: int, due: datetime, now: datetime) -> bool:
    """Take a message for delivery; only one worker's conditional update can succeed."""
    return _execute(_CLAIM, [_at(now + LEASE), message_id, _at(due)]) == 1


def _sent(message_id: int) -> None:
    _execute(_SENT, [_at(timezone.now()), message_id])


# The two statements of every delivery, written once rather than compiled by the ORM each
# time (the worker runs them for every mail): the claim and the mark as sent.
_TABLE = OutboxMessage._meta.db_table
_CLAIM = (
    f"UPDATE {{t}} SET {{next_attempt_at}} = %s, {{attempts}} = {{attempts}} + 1 "
    f"WHERE {{id}} = %s AND {{state}} = '{OutboxMessage.State.PENDING.value}' "
    f"AND {{next_attempt_at}} = %s"
)
_SENT = (
    f"UPDATE {{t}} SET {{state}} = '{OutboxMessage.State.SENT.value}', {{sent_at}} = %s, "
    "{last_error} = '' WHERE {id} = %s"
)
_DATETIME = OutboxMessage._meta.get_field("sent_at")


def _at(value: datetime) -> Any:
    return _DATETIME.get_db_prep_value(value, connection)


def _execute(template: str, params: list[Any]) -> int:
    quote = connection.ops.quote_name
    names = ("id", "state", "attempts", "next_attempt_at", "sent_at", "last_error")
    sql = template.format(t=quote(_TABLE), **{name: quote(name) for name in names})
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def deliver_one(message: OutboxMessage, now: datetime | None = None) -> bool:
    """Claim and deliver one message; return whether it was sent."""
    now = now or timezone.now()
    if not claim(message.pk, message.next_attempt_at, now):
        return False
    attempts = message.attempts + 1
    try:
        HANDLERS[message.kind](message.payload)
    except GiveUp as exc:
        OutboxMessage.objects.filter(pk=message.pk).update(
            state=OutboxMessage.State.DEAD, last_error=f"given up: {exc}"[:2000]
        )
        return False
    except Exception as exc:
        log.warning("outbox %s delivery failed: %s", message.pk, exc)
        dead = attempts >= MAX_ATTEMPTS
        OutboxMessage.objects.filter(pk=message.pk).update(
            state=OutboxMessage.State.DEAD if dead else OutboxMessage.State.PENDING,
            next_attempt_at=now + backoff(attempts),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        return False
    _sent(message.pk)
    return True


# A handler may queue messages itself (a notification fans out into one mail per recipient):
# those due at once are delivered in the same call, up to this many rounds.
ROUNDS = 3


def deliver_due(
    now: datetime | None = None, limit: int = 200, kinds: Iterable[str] | None = None
) -> int:
    """Deliver the messages that are due (of `kinds`, or all), and those their handlers
    queued; return how many were sent."""
    fixed, now = now is not None, now or timezone.now()
    sent = 0
    for _ in range(ROUNDS):
        rows = OutboxMessage.objects.filter(
            state=OutboxMessage.State.PENDING, next_attempt_at__lte=now
        )
        if kinds is not None:
            rows = rows.filter(kind__in=list(kinds))
        due = list(rows.order_by("next_attempt_at", "id")[:limit])
        if not due:
            break
        sent += sum(deliver_one(message, now) for message in due)
        if not fixed:
            now = timezone.now()
    return sent


def next_due(within: timedelta, now: datetime | None = None) -> datetime | None:
    """When the next pending message falls due, if within `within` of now (a retry's backoff or
    the lease of a message whose worker died), so the worker can wake up for it on time."""
    now = now or timezone.now()
    return (
        OutboxMessage.objects.filter(
            state=OutboxMessage.State.PENDING,
            next_attempt_at__gt=now,
            next_attempt_at__lte=now + within,
        )
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
