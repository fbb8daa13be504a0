"""Login throttling (django-axes) keyed by the account as stored, not as typed."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The e-mail address a login attempt is for, lower-cased: logging in ignores case, so
    `Alice@Example.com` and `alice@example.com` are one account and share one failure count."""
    if credentials:
        username = credentials.get("username")
    else:
        username = getattr(request, "data", request.POST).get("username")
    return username.strip().lower() if isinstance(username, str) else username
