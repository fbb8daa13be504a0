"""Request id, the viewer's time zone, and Idempotency-Key replay for API writes."""

from __future__ import annotations

import json
import re
import uuid
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils import timezone

from sustain.core import context
from sustain.core.idempotency import IdempotencyMiddleware, idempotent_response  # noqa: F401

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Take the caller's X-Request-ID when sane, otherwise make one; echo it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = context.request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            context.request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class RejectNulMiddleware:
    """Refuse NUL characters in the path, the query string and JSON bodies with a 400.

    PostgreSQL can neither store nor compare text holding one, so it would otherwise surface
    as a server error wherever the value reaches a query; no field here means one. (Django's
    form fields refuse them already.)
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul(request):
            detail = "NUL characters are not allowed in the address or the body."
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": detail, "errors": []}, status=400)
            return HttpResponseBadRequest(detail)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return True
        if request.content_type != "application/json" or b"\\u0000" not in request.body.lower():
            return False
        try:
            return _has_nul(json.loads(request.body))
        except ValueError:
            return False  # not JSON: the API answers that itself


class UserTimezoneMiddleware:
    """Show times in the viewer's own time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        tz_name = getattr(user, "time_zone", "") if user is not None else ""
        if tz_name:
            try:
                timezone.activate(zoneinfo.ZoneInfo(tz_name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)
