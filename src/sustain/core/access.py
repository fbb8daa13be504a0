"""Who may open a page: the decorators the apps' views share (healthchecks keeps these in
`hc/lib`, netbox in `utilities/views.py`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect

from sustain.core.http import AuthedRequest


def agent_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The agent workspace's pages: a login first, then agents (and managers, admins) only."""

    @login_required
    @wraps(view)
    def wrapper(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_agent:
            raise PermissionDenied("The agent workspace is for agents.")
        return view(request, *args, **kwargs)

    return wrapper


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Set-up pages (calendars, policies): managers and administrators only; agents get 403."""

    @login_required
    @wraps(view)
    def wrapper(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_manager:
            raise PermissionDenied("Only managers and administrators may change this.")
        return view(request, *args, **kwargs)

    return wrapper


def customers_to(
    portal_page: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A desk page that has a portal twin: a customer who follows a desk link (a mail an agent
    forwarded, a bookmark) lands on the portal's view of the same thing instead of a 403; the
    portal's own checks decide what they may see there."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and not user.is_agent:
                return redirect(portal_page, *args, **kwargs)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
