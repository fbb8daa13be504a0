"""Bearer tokens at the doors: the API's authentication (wired in by sustain/api.py) and whose
Idempotency-Keys a bearer request keeps (registered with core/idempotency.py at start-up), so
that core knows nothing of tokens."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError, Throttled
from ninja.security import HttpBearer

from sustain.accounts import token_throttle, tokens
from sustain.core.api import SAFE_METHODS


class TokenAuth(HttpBearer):
    """`Authorization: Bearer sus_…`; a read-scoped token may only read. Too many failed
    tokens from one address and its bearer requests get 429 for a while (token_throttle)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        address = token_throttle.address_key(request)
        api_token = tokens.authenticate(token, address=address)  # raises Throttled
        if api_token is None:
            token_throttle.record_failure(address)
            return None
        if api_token.scope == "read" and request.method not in SAFE_METHODS:
            raise HttpError(403, "This token may only read.")
        request.user = api_token.user
        return api_token.user


def token_principal(request: HttpRequest, raw: str) -> str | None:
    """Whose Idempotency-Keys a bearer request keeps: each usable token its own; None for a
    throttled address (no token is looked at: the API answers 429) or an unusable token."""
    try:  # the throttle is read with the token, in one query
        if tokens.authenticate(raw, address=token_throttle.address_key(request)) is None:
            return None
    except Throttled:
        return None
    return f"token:{tokens.digest(raw)[:40]}"
