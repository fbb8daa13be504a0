"""Request types for type checking: what our middleware and authentication guarantee."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from sustain.accounts.models import User


class AuthedRequest(HttpRequest):
    """A request behind login_required, through django-htmx's middleware."""

    user: User  # type: ignore[assignment]
    htmx: HtmxDetails


class ApiRequest(HttpRequest):
    """A request that passed the API's authentication."""

    auth: User
    user: User  # type: ignore[assignment]
