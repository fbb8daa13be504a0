"""API token generation and lookup by digest (no slow hash on every request)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from ninja.errors import Throttled

from sustain.accounts import token_throttle
from sustain.accounts.models import ApiToken
from sustain.core.compiled import Prepared

PREFIX = "sus_"
# Writing last_used_at on every request would make reads into writes; once a minute is enough.
LAST_USED_GRANULARITY = timedelta(minutes=1)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_raw_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def authenticate(raw: str, *, address: str | None = None) -> ApiToken | None:
    """The usable token for `raw`, with its user loaded; None when unknown, expired or revoked.

    With `address` (token_throttle.address_key), a throttled address is refused with
    Throttled whatever it sends; the throttle is read in the same query as the token.
    """
    now = timezone.now()
    if not raw.startswith(PREFIX):
        _check_throttle(address, now)
        return None
    limit = token_throttle.limit() if address is not None else 0
    if limit > 0:
        found = _WITH_THROTTLE.rows(
            limit, digest=digest(raw), address=address, since=now - token_throttle.window()
        )
    else:
        found = _TOKEN.rows(digest=digest(raw))
    token = found[0] if found else None
    if token is None:
        _check_throttle(address, now)
        return None
    if getattr(token, "throttle_reached_at", None) is not None:
        raise Throttled(token_throttle.wait_after(token.throttle_reached_at, now))  # type: ignore[attr-defined]
    if not token.is_usable(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def _token(digest: str) -> QuerySet[ApiToken]:
    rows = ApiToken.objects.select_related("user", "user__organization").filter(digest=digest)
    return rows.order_by("pk")[:1]


def _with_throttle(digest: str, address: str, since: datetime) -> QuerySet[ApiToken]:
    reached = token_throttle.limit_reached_at(address, since)
    return _token(digest).annotate(throttle_reached_at=reached)


# Compiled once per process (and per throttle limit): the look-up runs on every API request.
_MARK = datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
_TOKEN = Prepared(_token, digest="\x01digest")
_WITH_THROTTLE = Prepared(_with_throttle, digest="\x01digest", address="\x01address", since=_MARK)


def _check_throttle(address: str | None, now: datetime) -> None:
    if address is not None:
        wait = token_throttle.retry_after(address, now)
        if wait is not None:
            raise Throttled(wait)
