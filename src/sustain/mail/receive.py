"""The SMTP and LMTP receiver a mail server delivers to (`sustain mail serve`), on aiosmtpd.

aiosmtpd runs its own event loop; each received mail is handed to Django through
`sync_to_async(thread_sensitive=True)`, which runs every ingestion in the same one thread, one
after another, with its own database connection. The answer to DATA comes only after the mail
is stored (committed): 250 when it was stored (opened, added, held or ignored alike), 451 when
the database failed, so that the sending server tries again later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Q

from sustain.mail.models import Mailbox

log = logging.getLogger(__name__)

Deliver = Callable[[bytes, list[str]], str]
TEMPORARY_FAILURE = "451 4.3.0 Mail not stored; please try again later"


def mailbox_for(recipients: list[str]) -> Mailbox | None:
    """The mailbox whose address the mail was sent to, if any names it (`support+tag@x` is
    `support@x`'s: replies to notifications carry a token there)."""
    from sustain.mail.tokens import without_tag

    wanted = [without_tag(r.strip().lower()) for r in recipients if r and "@" in r][:100]
    if not wanted:
        return None
    condition = Q()
    for address in wanted:
        condition |= Q(address__iexact=address)
    # The id first: most mail servers deliver to an address no IMAP mailbox names, and a query
    # for no rows with their organization and team costs three times as much.
    found = Mailbox.objects.filter(condition).order_by("id").values_list("id", flat=True)[:1]
    if not found:
        return None
    return Mailbox.objects.select_related("organization", "team").get(pk=found[0])


_checked_at = 0.0
CHECK_EVERY = 30.0  # seconds between checks that the database connection still works


def _fresh_connection() -> None:
    """Keep one connection for mail after mail (opening SQLite again costs more than ingesting
    a mail), but replace it when the database closed it; checked every CHECK_EVERY seconds and
    after any error. Never inside a transaction (the tests share theirs with this thread)."""
    global _checked_at
    if connection.in_atomic_block or connection.connection is None:
        return
    now = time.monotonic()
    if now - _checked_at >= CHECK_EVERY:
        _checked_at = now
        if not connection.is_usable():
            connection.close()


def deliver(raw: bytes, recipients: list[str]) -> str:
    """Ingest one mail; the SMTP answer."""
    from sustain.mail import actions

    _fresh_connection()
    try:
        mail = actions.ingest(raw, mailbox=mailbox_for(recipients), recipients=recipients)
    except DatabaseError:
        if not connection.in_atomic_block:
            connection.close()  # the next mail starts on a new connection
        raise
    return f"250 2.0.0 Stored ({mail.status})"


class Handler:
    """aiosmtpd handler: accepts every recipient; ingests the mail once per transaction."""

    def __init__(self, deliver_fn: Deliver = deliver, *, lmtp: bool = False):
        self.deliver = deliver_fn
        self.lmtp = lmtp

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        recipients = list(envelope.rcpt_tos or [])
        try:
            status = await sync_to_async(self.deliver, thread_sensitive=True)(raw, recipients)
        except Exception:
            log.exception("a received mail could not be stored")
            status = TEMPORARY_FAILURE
        if self.lmtp:
            # LMTP answers once per recipient; the mail was stored once for all of them.
            return "\r\n".join([status] * max(len(recipients), 1))
        return status


class LMTPController(Controller):
    def factory(self) -> LMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


def receiver(
    host: str = "127.0.0.1",
    port: int = 8025,
    *,
    lmtp: bool = False,
    deliver_fn: Deliver = deliver,
) -> Controller:
    """A receiver to `start()` and `stop()`; it serves from its own thread."""
    controller_class = LMTPController if lmtp else Controller
    return controller_class(
        Handler(deliver_fn, lmtp=lmtp),
        hostname=host,
        port=port,
        data_size_limit=settings.MAIL_MAX_BYTES,
        ident="Sustain",
    )
