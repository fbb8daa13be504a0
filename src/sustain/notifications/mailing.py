"""E-mail notifications: the mechanism (who is told about what is the callers' to decide:
desk/notifications.py, bugs/notifications.py, the SLA engine, releases).

Two ways to queue: `email` renders each recipient's mail now and writes it to the outbox;
`later` writes one outbox row for the whole event (a "notification": the template, the context
as references and snapshots, the recipients) which the worker renders and fans out into one
mail per recipient, as `email` would have done at the event. An action's transaction then
holds no rendering, no preference look-up and no Message-ID bookkeeping.

Each recipient's mail is rendered in that person's time zone and language, as plain text and,
when the template has one, HTML (multipart/alternative). A recipient who is a user is routed by
their preference for the event: sent now, gathered into the daily digest, or not at all.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils import dateparse, timezone, translation

from sustain.core import outbox
from sustain.notifications import context as encoded

NOTIFICATION = "notification"  # the outbox kind of one event's mails, rendered by the worker


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@contextmanager
def as_reader(user: Any) -> Iterator[None]:
    """Render times in `user`'s time zone and words in their language (defaults otherwise)."""
    zone: Any = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    tz_name = getattr(user, "time_zone", "") or ""
    if tz_name:
        with suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo(tz_name)
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
    with timezone.override(zone), translation.override(language):
        yield


def render(template: str, context: dict[str, Any]) -> Rendered:
    """`template`.subject.txt, .txt and (if there is one) .html, in the active zone and language."""
    subject = render_to_string(f"{template}.subject.txt", context)
    text = render_to_string(f"{template}.txt", context)
    try:
        html = get_template(f"{template}.html").render(context)
    except TemplateDoesNotExist:
        html = ""
    return Rendered(" ".join(subject.split()), text, html)


def _people(recipients: Iterable[Any]) -> list[tuple[str, Any]]:
    """(address, user or None) once per address, users looked up in one query."""
    from sustain.accounts.models import User

    by_address: dict[str, Any] = {}
    for item in recipients:
        if not item:
            continue
        if isinstance(item, str):
            by_address.setdefault(item.strip().lower(), None)
        elif item.email:
            by_address[item.email.lower()] = item
    unknown = [address for address, user in by_address.items() if user is None]
    if unknown:
        for user in User.objects.filter(email__in=unknown):
            by_address[user.email.lower()] = user
    # A deactivated user is told nothing, whether named as a user or by address.
    return sorted((a, u) for a, u in by_address.items() if u is None or u.is_active)


def email(
    recipients: Iterable[Any],
    template: str,
    context: dict[str, Any],
    *,
    dedupe_key: str,
    headers: dict[str, str] | None = None,
    not_before: datetime | None = None,
    ticket: Any = None,
    event: str | None = None,
    at: datetime | None = None,
) -> int:
    """Queue one e-mail per distinct recipient (users or addresses); return how many.

    With `event`, each user's preference for it decides: now, in the daily digest (held as of
    `at`, when the event happened), or not at all. Mail about a ticket carries its own Message-ID and In-Reply-To/References of the
    ticket's thread, so that replies come back to the ticket.
    """
    from sustain.mail import threads, tokens
    from sustain.notifications import preferences

    people = _people(recipients)
    routes = preferences.deliveries([u.pk for _, u in people if u is not None], event)
    queued = 0
    for address, user in people:
        how = (
            routes.get(user.pk, preferences.IMMEDIATE)
            if user is not None
            else preferences.IMMEDIATE
        )
        if how == preferences.OFF:
            continue
        with as_reader(user):
            mail = render(template, {**context, "base_url": settings.BASE_URL, "recipient": user})
        if how == preferences.DIGEST:
            about = ticket if ticket is not None else context.get("ticket")
            preferences.add_to_digest(
                user, event or "", about, mail, key=f"{dedupe_key}:{address}", at=at
            )
            continue
        message_headers = {"Auto-Submitted": "auto-generated", **(headers or {})}
        if ticket is not None:
            message_id = threads.new_message_id(ticket)
            message_headers.update(threads.reply_headers(ticket, message_id))
            threads.remember(message_id, ticket, "out")
            # A customer's copy carries a signed reply address: the answer is theirs.
            reply_to = tokens.reply_to(user.pk, ticket.pk) if user and not user.is_agent else None
            if reply_to:
                message_headers["Reply-To"] = reply_to
        outbox.enqueue(
            "email",
            {
                "to": [address],
                "subject": mail.subject,
                "body": mail.text,
                "html": mail.html,
                "headers": message_headers,
            },
            dedupe_key=f"{dedupe_key}:{address}",
            not_before=not_before,
        )
        queued += 1
    return queued


def later(
    recipients: Iterable[Any],
    template: str,
    context: dict[str, Any],
    *,
    dedupe_key: str,
    headers: dict[str, str] | None = None,
    not_before: datetime | None = None,
    ticket: Any = None,
    event: str | None = None,
    snapshot: Iterable[str] = (),
) -> None:
    """Queue the event's mails as one outbox row, rendered by the worker (see `email`).

    The context's model instances travel as references, read again by the worker; those named
    in `snapshot` travel with their field values as of now, so the mail tells what was true at
    the event (a ticket's status and priority) even if it changed before the worker got to it.
    The Message-ID of an inbound mail being answered, if any, travels too.
    """
    from sustain.mail import threads

    people: list[Any] = []
    for item in recipients:
        if isinstance(item, str):
            people.append(item)
        elif item is not None and item.email:
            people.append({"user": item.pk})
    if not people:
        return
    chosen = set(snapshot)
    outbox.enqueue(
        NOTIFICATION,
        {
            "recipients": people,
            "template": template,
            "context": {k: encoded.encode(v, snapshot=k in chosen) for k, v in context.items()},
            "dedupe_key": dedupe_key,
            "headers": headers or {},
            "not_before": not_before.isoformat() if not_before else None,
            "ticket": encoded.encode(ticket, snapshot="ticket" in chosen),
            "event": event,
            "answering": threads.answered_message_id(),
            "at": timezone.now().isoformat(),
        },
        dedupe_key=f"notification:{dedupe_key}"[:200],
    )


@outbox.handler(NOTIFICATION)
def fan_out(payload: dict[str, Any]) -> None:
    """Render one event's mails and queue them (the worker delivers them in the same pass)."""
    from sustain.accounts.models import User
    from sustain.mail import threads

    context = {k: encoded.decode(v) for k, v in payload["context"].items()}
    ids = [p["user"] for p in payload["recipients"] if isinstance(p, dict)]
    users = User.objects.in_bulk(ids) if ids else {}
    recipients = [users.get(p["user"]) if isinstance(p, dict) else p for p in payload["recipients"]]
    not_before = payload.get("not_before")
    with transaction.atomic(), threads.answering(payload.get("answering") or ""):
        email(
            recipients,
            payload["template"],
            context,
            dedupe_key=payload["dedupe_key"],
            headers=payload.get("headers") or None,
            not_before=dateparse.parse_datetime(not_before) if not_before else None,
            ticket=encoded.decode(payload.get("ticket")),
            event=payload.get("event"),
            at=dateparse.parse_datetime(payload["at"]) if payload.get("at") else None,
        )


@outbox.handler("email")
def send_email(payload: dict[str, Any]) -> None:
    message = EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["body"],
        to=payload["to"],
        headers=payload.get("headers") or {},
    )
    if payload.get("html"):
        message.attach_alternative(payload["html"], "text/html")
    message.send(fail_silently=False)
