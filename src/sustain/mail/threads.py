"""Message-IDs in and out, so that replies find their ticket."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from sustain.mail.models import MessageRef

# The Message-ID of the inbound mail being processed, while ingestion runs: whatever is sent
# because of it answers it.
_answering: ContextVar[str | None] = ContextVar("mail_answering", default=None)


@contextmanager
def answering(message_id: str) -> Iterator[None]:
    """Mark everything queued inside the block as an answer to the inbound `message_id`."""
    token = _answering.set(message_id.lower())
    try:
        yield
    finally:
        _answering.reset(token)


def answered_message_id() -> str | None:
    """The inbound mail being answered right now, if any."""
    return _answering.get()


def answer_headers() -> dict[str, str]:
    """Headers for a mail Sustain sends: `Auto-Submitted: auto-replied` (RFC 3834) when it is
    sent because an e-mail came in, so that the sender's autoresponder does not answer back.

    Call it when the mail is queued (inside the action that the inbound mail caused);
    `reply_headers` already includes it.
    """
    return {"Auto-Submitted": "auto-replied"} if _answering.get() else {}


def domain() -> str:
    """The right-hand side of our Message-IDs: the host of SUSTAIN_BASE_URL."""
    host = settings.BASE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return host if "." in host else f"{host}.sustain.invalid"


def new_message_id(ticket: Any = None) -> str:
    key = ticket.key.lower() if ticket is not None else "note"
    return f"sustain.{key}.{uuid.uuid4().hex}@{domain()}"


def remember(message_id: str, ticket: Any, direction: str, *, fresh: bool = False) -> None:
    """Record a Message-ID as belonging to a ticket (the first ticket to claim it keeps it).

    `fresh`: the caller has just seen that the id is unknown, inside the transaction that
    records it; a concurrent claim then fails that whole transaction (no savepoint needed).
    """
    if fresh:
        MessageRef.objects.create(message_id=message_id.lower(), ticket=ticket, direction=direction)
        return
    try:
        with transaction.atomic():
            MessageRef.objects.create(
                message_id=message_id.lower(), ticket=ticket, direction=direction
            )
    except IntegrityError:
        pass


def reply_headers(ticket: Any, message_id: str, newer: Iterable[str] = ()) -> dict[str, str]:
    """Headers for a message about `ticket`: its own id and the thread it continues. `newer`:
    ids sent about it that are not recorded yet, newest first."""
    recent = [
        *newer,
        *MessageRef.objects.filter(ticket=ticket)
        .order_by("-id")
        .values_list("message_id", flat=True)[:10],
    ][:10]
    answered = _answering.get()
    if answered:  # the inbound mail that caused this one, newest of all (also when the worker
        # renders this mail after others about the ticket were recorded)
        recent = [answered, *(mid for mid in recent if mid != answered)]
    headers = {"Message-ID": f"<{message_id}>", **answer_headers()}
    if recent:
        headers["In-Reply-To"] = f"<{recent[0]}>"
        headers["References"] = " ".join(f"<{mid}>" for mid in reversed(recent))
    return headers


def ticket_for(message_ids: list[str]) -> Any:
    """The ticket that sent or received the nearest of `message_ids`, if any."""
    if not message_ids:
        return None
    refs = {
        r.message_id: r
        for r in MessageRef.objects.filter(message_id__in=message_ids).select_related("ticket")
    }
    for mid in message_ids:
        if mid in refs:
            return refs[mid].ticket
    return None
