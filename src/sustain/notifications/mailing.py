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
SAME = "$context.ticket"


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
    send_now: bool = False,
) -> int:
    """Queue one e-mail per distinct recipient (users or addresses); return how many.

    With `event`, each user's preference for it decides: now, in the daily digest (held as of
    `at`, when the event happened), or not at all. Mail about a ticket carries its own
    Message-ID and In-Reply-To/References of the ticket's thread, so that replies come back to
    the ticket. `send_now` (the worker, fanning a notification out): each mail is sent at once
    and written as sent (or, failing, as a retry), skipping recipients already mailed under
    the key; what is written is written after the sending, in one transaction.
    """
    from sustain.mail import threads

    people = _people(recipients)
    if send_now:
        people = _not_yet_mailed(people, dedupe_key)
    writes: list[Any] = []
    mails = _render_all(people, template, context, event, ticket, writes, dedupe_key, at)
    items: list[tuple[dict[str, Any], str]] = []
    ids: list[str] = []
    for address, user, mail in mails:
        message_headers = {"Auto-Submitted": "auto-generated", **(headers or {})}
        if ticket is not None:
            # Each copy continues the thread as recorded so far, its siblings included.
            message_id = threads.new_message_id(ticket)
            message_headers.update(threads.reply_headers(ticket, message_id, ids[::-1]))
            ids.append(message_id)
            writes.append(lambda m=message_id: threads.remember(m, ticket, "out"))
            reply_to = _reply_to(user, ticket)
            if reply_to:
                message_headers["Reply-To"] = reply_to
        payload = {
            "to": [address],
            "subject": mail.subject,
            "body": mail.text,
            "html": mail.html,
            "headers": message_headers,
        }
        items.append((payload, f"{dedupe_key}:{address}"))
    sending = send_now and (not_before is None or not_before <= timezone.now())
    sent = outbox.deliver_now("email", items) if sending else []
    with transaction.atomic():
        for write in writes:
            write()
        if sending:
            outbox.record(sent)
        for payload, key in [] if sending else items:
            outbox.enqueue("email", payload, dedupe_key=key, not_before=not_before)
    return len(items)


def _not_yet_mailed(people: list[tuple[str, Any]], dedupe_key: str) -> list[tuple[str, Any]]:
    """Those not mailed under `dedupe_key` yet (a notification fanned out again after its
    worker died half-way mails nobody twice)."""
    from sustain.core.models import OutboxMessage

    keys = {f"{dedupe_key}:{address}": address for address, _ in people}
    done = set(
        OutboxMessage.objects.filter(dedupe_key__in=list(keys)).values_list("dedupe_key", flat=True)
    )
    return [(address, user) for address, user in people if f"{dedupe_key}:{address}" not in done]


def _render_all(
    people: list[tuple[str, Any]],
    template: str,
    context: dict[str, Any],
    event: str | None,
    ticket: Any,
    writes: list[Any],
    dedupe_key: str,
    at: datetime | None,
) -> list[tuple[str, Any, Rendered]]:
    """Each recipient's mail, routed by their preference: the ones to send now; the digest's
    are added to `writes`."""
    from sustain.notifications import preferences

    routes = preferences.deliveries([u.pk for _, u in people if u is not None], event)
    about = ticket if ticket is not None else context.get("ticket")
    mails = []
    for address, user in people:
        how = routes.get(user.pk, preferences.IMMEDIATE) if user else preferences.IMMEDIATE
        if how == preferences.OFF:
            continue
        with as_reader(user):
            mail = render(template, {**context, "base_url": settings.BASE_URL, "recipient": user})
        if how == preferences.DIGEST:
            key = f"{dedupe_key}:{address}"

            def hold(user: Any = user, mail: Rendered = mail, key: str = key) -> None:
                preferences.add_to_digest(user, event or "", about, mail, key=key, at=at)

            writes.append(hold)
            continue
        mails.append((address, user, mail))
    return mails


def _reply_to(user: Any, ticket: Any) -> str | None:
    """A customer's copy carries a signed reply address: the answer is theirs."""
    from sustain.mail import tokens

    return tokens.reply_to(user.pk, ticket.pk) if user and not user.is_agent else None


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
            # The context's own ticket, most often: not written twice.
            "ticket": SAME
            if ticket is not None and ticket is context.get("ticket")
            else (encoded.encode(ticket, snapshot="ticket" in chosen)),
            "event": event,
            "answering": threads.answered_message_id(),
            "at": timezone.now().isoformat(),
        },
        dedupe_key=f"notification:{dedupe_key}"[:200],
    )


@outbox.handler(NOTIFICATION)
def fan_out(payload: dict[str, Any]) -> None:
    """Render one event's mails and send them, each recorded as its own outbox row (sent, or
    to be retried on its own)."""
    from sustain.accounts.models import User
    from sustain.mail import threads

    context = {k: encoded.decode(v) for k, v in payload["context"].items()}
    ids = [p["user"] for p in payload["recipients"] if isinstance(p, dict)]
    users = User.objects.in_bulk(ids) if ids else {}
    recipients = [users.get(p["user"]) if isinstance(p, dict) else p for p in payload["recipients"]]
    not_before, about = payload.get("not_before"), payload.get("ticket")
    with threads.answering(payload.get("answering") or ""):
        email(
            recipients,
            payload["template"],
            context,
            dedupe_key=payload["dedupe_key"],
            headers=payload.get("headers") or None,
            not_before=dateparse.parse_datetime(not_before) if not_before else None,
            ticket=context["ticket"] if about == SAME else encoded.decode(about),
            event=payload.get("event"),
            at=dateparse.parse_datetime(payload["at"]) if payload.get("at") else None,
            send_now=True,
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
