"""Reply tokens: a signed reply address per recipient and ticket, as GitLab's service desk does.

A notification to a customer about a ticket carries `Reply-To: support+r-<user>-<ticket>-<mac>@…`
(the base address is SUSTAIN_FROM_EMAIL's); the mac is an HMAC of the user id and ticket id with
SECRET_KEY (Django's `salted_hmac`). A reply to that address is that recipient's, on that
ticket, whatever its From says: whoever holds the notification may answer it, and nobody
else can make a token. Everything is lower case (servers may fold the local part's case),
and the local part stays within the 64 characters RFC 5321 allows.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "sustain.mail.reply-token"
MAX_LOCAL_PART = 64
TOKEN = re.compile(r"\+r-([0-9a-z]{1,13})-([0-9a-z]{1,13})-([a-z2-7]{24})@", re.IGNORECASE)


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def _mac(user_id: int, ticket_id: int) -> str:
    digest = salted_hmac(SALT, f"{user_id}:{ticket_id}", algorithm="sha256").digest()
    return base64.b32encode(digest[:15]).decode("ascii").lower()  # 120 bits, 24 characters


def make(user_id: int, ticket_id: int) -> str:
    return f"r-{_b36(user_id)}-{_b36(ticket_id)}-{_mac(user_id, ticket_id)}"


def base_address() -> tuple[str, str]:
    """(display name, address) replies go to: SUSTAIN_FROM_EMAIL's."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)


def reply_to(user_id: int, ticket_id: int) -> str | None:
    """The Reply-To header for `user`'s mail about `ticket`, or None when tokens are off or the
    address would be too long."""
    if not settings.MAIL_REPLY_TOKENS:
        return None
    name, address = base_address()
    if "@" not in address:
        return None
    local, domain = address.rsplit("@", 1)
    local = f"{local.split('+', 1)[0]}+{make(user_id, ticket_id)}"
    if len(local) > MAX_LOCAL_PART:
        return None
    return formataddr((name, f"{local}@{domain}"))


def read(addresses: Iterable[str]) -> tuple[tuple[int, int] | None, bool]:
    """The (user id, ticket id) of the first valid token among `addresses`, and whether an
    address carried a token that does not verify (tampered, or made with another key)."""
    tampered = False
    for address in addresses:
        for match in TOKEN.finditer(address or ""):
            user_id, ticket_id = int(match[1], 36), int(match[2], 36)
            if constant_time_compare(_mac(user_id, ticket_id), match[3].lower()):
                return (user_id, ticket_id), tampered
            tampered = True
    return None, tampered


def without_tag(address: str) -> str:
    """`support+r-…@x` → `support@x`: the mailbox a tagged address is delivered to."""
    local, at, domain = address.partition("@")
    return f"{local.split('+', 1)[0]}{at}{domain}" if at else address
