"""Polling IMAP mailboxes (`sustain mail fetch`, and the worker every minute).

A mail is marked seen or moved only after `ingest` has stored it (committed), so a poll that
dies half-way loses nothing: the next poll fetches the rest again, and mail already stored is
recognised by its Message-ID. Each poll claims its mailbox with a conditional UPDATE, so two
workers never poll the same mailbox at once.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from sustain.core import outbound
from sustain.mail import actions
from sustain.mail.models import Mailbox

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
BATCH = 200  # mails per mailbox and poll; the next poll takes the rest
TIMEOUT = 30  # seconds for the connection and each command


class FetchError(Exception):
    pass


class _GuardedIMAP4(imaplib.IMAP4):
    """IMAP over a connection the outbound guard made: a mailbox's host is checked like any
    other outbound target (a private mail server needs SUSTAIN_OUTBOUND_ALLOW_NETWORKS)."""

    def _create_socket(self, timeout: float | None) -> outbound.Connection:
        return outbound.open_connection(self.host, self.port, timeout=timeout or TIMEOUT)


class _GuardedIMAP4_SSL(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout: float | None) -> outbound.Connection:
        sock = outbound.open_connection(self.host, self.port, timeout=timeout or TIMEOUT)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class FetchResult:
    mailbox: str
    fetched: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    error: str = ""


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(response: tuple[str, list], what: str) -> list:
    typ, data = response
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise FetchError(f"{what} failed: {detail or typ}")
    return data


def connect(mailbox: Mailbox, ssl_context: ssl.SSLContext | None = None) -> imaplib.IMAP4:
    """Connected and logged in, the folder selected."""
    context = ssl_context or ssl.create_default_context()
    conn: imaplib.IMAP4
    if mailbox.security == Mailbox.Security.SSL:
        conn = _GuardedIMAP4_SSL(mailbox.host, mailbox.port, ssl_context=context, timeout=TIMEOUT)
    else:
        conn = _GuardedIMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT)
        if mailbox.security == Mailbox.Security.STARTTLS:
            _check(conn.starttls(context), "STARTTLS")
    try:
        try:
            _check(conn.login(mailbox.username, mailbox.password), "login")
        except imaplib.IMAP4.error as exc:
            raise FetchError(f"login as {mailbox.username} failed: {_text(exc)}") from None
        _check(conn.select(_quote(mailbox.folder)), f"opening folder {mailbox.folder}")
    except BaseException:
        _logout(conn)
        raise
    return conn


def _text(exc: Exception) -> str:
    """imaplib's errors carry the server's bytes: b'[AUTHENTICATIONFAILED] …'."""
    detail = exc.args[0] if exc.args else exc
    if isinstance(detail, bytes):
        return detail.decode("utf-8", "replace")
    text = str(detail)
    return text[2:-1] if text.startswith(("b'", 'b"')) else text


def _logout(conn: imaplib.IMAP4) -> None:
    with contextlib.suppress(OSError, imaplib.IMAP4.error):
        conn.logout()


def _message(parts: list) -> bytes | None:
    for part in parts:
        if isinstance(part, tuple) and len(part) == 2 and isinstance(part[1], bytes):
            return part[1]
    return None


def fetch_mailbox(
    mailbox: Mailbox,
    *,
    limit: int = BATCH,
    ssl_context: ssl.SSLContext | None = None,
    result: FetchResult | None = None,
) -> FetchResult:
    """Fetch, store, then mark or move every new mail of one mailbox (up to `limit`)."""
    result = result or FetchResult(mailbox.name)
    move = mailbox.after_fetch == Mailbox.AfterFetch.MOVE and bool(mailbox.move_to)
    conn = connect(mailbox, ssl_context)
    try:
        can_move = b"MOVE" in {c.upper() for c in _capabilities(conn)}
        # Moved mail leaves the folder; mail merely marked stays, so only unseen mail is new.
        criteria = "ALL" if move else "UNSEEN"
        found = _check(conn.uid("SEARCH", criteria), "search")[0] or b""
        uids = [uid.decode("ascii") for uid in found.split()]
        expunge = False
        # A partial fetch: the server sends one byte past the limit at most, so a mail that is
        # too large never fills memory; it is held with its headers, and stays on the server.
        most = settings.MAIL_MAX_BYTES
        for uid in uids[:limit]:
            raw = _message(_check(conn.uid("FETCH", uid, f"(BODY.PEEK[]<0.{most + 1}>)"), "fetch"))
            if raw is None:
                continue
            if len(raw) > most:
                mail = actions.hold_oversized(raw, mailbox=mailbox)
            else:
                mail = actions.ingest(raw, mailbox=mailbox)  # committed before it is touched
            result.fetched += 1
            result.statuses[mail.status] = result.statuses.get(mail.status, 0) + 1
            if move and can_move:
                _check(conn.uid("MOVE", uid, _quote(mailbox.move_to)), "move")
            elif move:
                _check(conn.uid("COPY", uid, _quote(mailbox.move_to)), "copy")
                _check(conn.uid("STORE", uid, "+FLAGS", "(\\Deleted)"), "delete")
                expunge = True
            else:
                _check(conn.uid("STORE", uid, "+FLAGS", "(\\Seen)"), "mark seen")
        if expunge:
            _check(conn.expunge(), "expunge")
    finally:
        _logout(conn)
    return result


def _capabilities(conn: imaplib.IMAP4) -> list[bytes]:
    """What the server offers once logged in (imaplib keeps only the greeting's list)."""
    data = _check(conn.capability(), "capability")
    return b" ".join(d for d in data if isinstance(d, bytes)).split()


def claim(mailbox: Mailbox, now: datetime) -> bool:
    """Take the mailbox for one poll; only one worker's conditional update succeeds."""
    return bool(
        Mailbox.objects.filter(pk=mailbox.pk, active=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
        .update(lease_until=now + LEASE)
    )


def poll(
    mailbox: Mailbox,
    *,
    now: datetime | None = None,
    limit: int = BATCH,
    ssl_context: ssl.SSLContext | None = None,
) -> FetchResult | None:
    """One poll of one mailbox, if no one else is polling it; errors are kept on the mailbox."""
    now = now or timezone.now()
    if not claim(mailbox, now):
        return None
    result = FetchResult(mailbox.name)
    try:
        fetch_mailbox(mailbox, result=result, limit=limit, ssl_context=ssl_context)
    except Exception as exc:  # kept on the mailbox; the other mailboxes are still polled
        result.error = f"{type(exc).__name__}: {exc}"[:2000]
        log.warning("mailbox %s: %s", mailbox.name, result.error)
    finally:
        Mailbox.objects.filter(pk=mailbox.pk).update(
            lease_until=None, last_polled_at=timezone.now(), last_error=result.error
        )
    return result


def fetch_all(*, now: datetime | None = None) -> list[FetchResult]:
    """Poll every active mailbox once."""
    results = []
    for mailbox in Mailbox.objects.filter(active=True).select_related("organization", "team"):
        found = poll(mailbox, now=now)
        if found is not None:
            results.append(found)
    return results
