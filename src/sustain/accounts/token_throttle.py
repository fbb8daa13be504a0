"""A throttle on failed bearer-token attempts per client address.

After SUSTAIN_TOKEN_FAILURE_LIMIT failures within SUSTAIN_TOKEN_FAILURE_WINDOW seconds, every
bearer request from that address is answered 429 with Retry-After until the oldest of those
failures leaves the window: guessing tokens (or checking a stolen list) costs time, and a
throttled address learns nothing about the tokens it tries. A success neither counts nor clears
the count (a client with one valid token could otherwise keep guessing others). Failures are
rows in a table, so every gunicorn worker and every machine sees the same count.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math

from django.conf import settings
from django.db.models import Subquery
from django.http import HttpRequest
from django.utils import timezone

from sustain.accounts.models import TokenFailure
from sustain.core.client import client_address


def limit() -> int:
    return int(getattr(settings, "TOKEN_FAILURE_LIMIT", 20))


def window() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "TOKEN_FAILURE_WINDOW", 300)))


def address_key(request: HttpRequest) -> str:
    """The address the count is kept for: an IPv6 client by its /64."""
    address = client_address(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def retry_after(key: str, now: dt.datetime | None = None) -> int | None:
    """Seconds until `key` may try again; None when it is not throttled."""
    count = limit()
    if count <= 0:
        return None
    now = now or timezone.now()
    since = now - window()
    recent = list(
        TokenFailure.objects.filter(address=key, at__gt=since)
        .order_by("-at")
        .values_list("at", flat=True)[:count]
    )
    if len(recent) < count:
        return None
    # Allowed again when the limit-th most recent failure leaves the window.
    return wait_after(recent[-1], now)


def limit_reached_at(key: str, since: dt.datetime) -> Subquery:
    """As a subquery: when the limit-th most recent failure of `key` after `since` (the
    window's start) happened (null while under the limit), for a query that reads the token
    in the same round trip. Only while the throttle is on (limit() > 0)."""
    count = limit()
    recent = TokenFailure.objects.filter(address=key, at__gt=since).order_by("-at")
    return Subquery(recent.values("at")[count - 1 : count])


def wait_after(reached_at: dt.datetime, now: dt.datetime) -> int:
    """Seconds to wait when the limit was reached at `reached_at` (see retry_after)."""
    return max(1, math.ceil((reached_at + window() - now).total_seconds()))


def record_failure(key: str, now: dt.datetime | None = None) -> None:
    if limit() <= 0:
        return
    now = now or timezone.now()
    TokenFailure.objects.filter(at__lte=now - window()).delete()  # forget what no longer counts
    TokenFailure.objects.create(address=key, at=now)
