"""Login throttling (django-axes) keyed by the account as stored, not as typed."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off, get_failure_limit
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The e-mail address a login attempt is for, lower-cased: logging in ignores case, so
    `Alice@Example.com` and `alice@example.com` are one account and share one failure count."""
    if credentials:
        username = credentials.get("username")
    else:
        username = getattr(request, "data", request.POST).get("username")
    return username.strip().lower() if isinstance(username, str) else username


def locked_out(request: HttpRequest, original_response: Any, credentials: Any) -> HttpResponse:
    """The lock-out page: the product's own, with navigation, saying until when (the cool-off
    counts from this failed attempt, in the viewer's zone)."""
    cool_off = get_cool_off(request)
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "locked_until": timezone.now() + cool_off if cool_off else None,
    }
    return render(request, "registration/locked.html", context, status=429)
