"""The demo's e-mail: customers writing and replying by mail, and mail held for review.

Every mail goes through `mail.actions.ingest`, the door a mail server's pipe, SMTP and IMAP
use, so each e-mail comment has its mail stored (the desk's "by e-mail" link opens it) and
held mail waits in the review queue with its reason. Replies are sent to the signed reply
address a notification carries (tokens.reply_to), as a customer's mail client would.

The demo's domains (`*.example`) are reserved and never resolve: `offline()` answers the
DKIM/DMARC lookups of ingestion as the DNS would (no record) without asking it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from django.conf import settings
from django.test.utils import override_settings
from django.utils import timezone

from sustain.accounts.models import User
from sustain.desk.models import Ticket
from sustain.mail import actions as mail
from sustain.mail import tokens
from sustain.mail.models import InboundMail


def no_records(name: str, timeout: float = 0) -> bytes | None:
    """The TXT lookup for the demo's mail: the reserved domains publish nothing."""
    return None


@contextmanager
def offline() -> Iterator[None]:
    with override_settings(MAIL_DNS_RESOLVER="sustain.demo.mails.no_records"):
        yield


def _raw(sender: str, to: str, subject: str, body: str, domain: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(body)
    return bytes(message)


def _support() -> str:
    return tokens.base_address()[1] or settings.DEFAULT_FROM_EMAIL


def write(sender: User | tuple[str, str], subject: str, body: str) -> InboundMail:
    """A new mail to the support address (a known customer's opens a ticket)."""
    name, address = (sender.name, sender.email) if isinstance(sender, User) else sender
    raw = _raw(formataddr((name, address)), _support(), subject, body, address.split("@")[-1])
    with offline():
        return mail.ingest(raw)


def reply(sender: User, ticket: Ticket, body: str) -> InboundMail:
    """The sender's answer to the ticket's last notification, to its signed reply address."""
    to = tokens.reply_to(sender.pk, ticket.pk) or _support()
    quoted = "\n".join(f"> {line}" for line in ticket.title.splitlines())
    raw = _raw(
        formataddr((sender.name, sender.email)),
        to,
        f"Re: [{ticket.key}] {ticket.title}",
        f"{body}\n\nOn {timezone.now():%d %b %Y}, Northwind Support wrote:\n{quoted}\n",
        sender.email.split("@")[-1],
    )
    with offline():
        return mail.ingest(raw)
