"""Message-IDs in and out, so that replies find their ticket."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from sustain.mail.models import MessageRef


def domain() -> str:
    """The right-hand side of our Message-IDs: the host of SUSTAIN_BASE_URL."""
    host = settings.BASE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return host if "." in host else f"{host}.sustain.invalid"


def new_message_id(ticket: Any = None) -> str:
    key = ticket.key.lower() if ticket is not None else "note"
    return f"sustain.{key}.{uuid.uuid4().hex}@{domain()}"


def remember(message_id: str, ticket: Any, direction: str) -> None:
    """Record a Message-ID as belonging to a ticket (the first ticket to claim it keeps it)."""
    try:
        with transaction.atomic():
            MessageRef.objects.create(
                message_id=message_id.lower(), ticket=ticket, direction=direction
            )
    except IntegrityError:
        pass


def reply_headers(ticket: Any, message_id: str) -> dict[str, str]:
    """Headers for a message about `ticket`: its own id and the thread it continues."""
    recent = list(
        MessageRef.objects.filter(ticket=ticket)
        .order_by("-id")
        .values_list("message_id", flat=True)[:10]
    )
    headers = {"Message-ID": f"<{message_id}>"}
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
