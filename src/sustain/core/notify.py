"""E-mail notifications: rendered when the event happens, sent by the outbox worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from sustain.core import outbox


def email(
    recipients: list[str],
    template: str,
    context: dict[str, Any],
    *,
    dedupe_key: str,
    headers: dict[str, str] | None = None,
    not_before: datetime | None = None,
    ticket: Any = None,
) -> None:
    """Queue one e-mail per recipient; subject and body come from `template`.subject/.txt.

    Mail about a ticket carries its own Message-ID and In-Reply-To/References of the ticket's
    thread, so that replies come back to the ticket.
    """
    from sustain.mail import threads

    context = {**context, "base_url": settings.BASE_URL}
    subject = render_to_string(f"{template}.subject.txt", context).strip().replace("\n", " ")
    body = render_to_string(f"{template}.txt", context)
    for address in sorted(set(filter(None, recipients))):
        message_headers = dict(headers or {})
        if ticket is not None:
            message_id = threads.new_message_id(ticket)
            message_headers.update(threads.reply_headers(ticket, message_id))
            threads.remember(message_id, ticket, "out")
        outbox.enqueue(
            "email",
            {"to": [address], "subject": subject, "body": body, "headers": message_headers},
            dedupe_key=f"{dedupe_key}:{address}",
            not_before=not_before,
        )


@outbox.handler("email")
def send_email(payload: dict[str, Any]) -> None:
    message = EmailMessage(
        subject=payload["subject"],
        body=payload["body"],
        to=payload["to"],
        headers=payload.get("headers") or {},
    )
    message.send(fail_silently=False)
