"""API token generation and lookup by digest (no slow hash on every request)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from sustain.accounts.models import ApiToken

PREFIX = "sus_"
# Writing last_used_at on every request would make reads into writes; once a minute is enough.
LAST_USED_GRANULARITY = timedelta(minutes=1)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_raw_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def authenticate(raw: str) -> ApiToken | None:
    """The usable token for `raw`, with its user loaded; None when unknown, expired or revoked."""
    if not raw.startswith(PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user", "user__organization")
        .filter(digest=digest(raw))
        .first()
    )
    now = timezone.now()
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
