"""Request types for type checking: what our middleware and authentication guarantee."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    # django-stubs reads this alias as settings.AUTH_USER_MODEL: core names no app.
    from django.contrib.auth.models import _User as User
    from django_htmx.middleware import HtmxDetails


class AuthedRequest(HttpRequest):
    """A request behind login_required, through django-htmx's middleware."""

    user: User  # type: ignore[assignment]
    htmx: HtmxDetails


class ApiRequest(HttpRequest):
    """A request that passed the API's authentication."""

    auth: User
    user: User  # type: ignore[assignment]
