"""Request id, the viewer's time zone, and Idempotency-Key replay for API writes."""

from __future__ import annotations

import re
import uuid
import zoneinfo
from collections.abc import Callable

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


# A NUL written as a JSON escape: `\u0000` after an even number of backslashes (`\\u0000` is
# an escaped backslash followed by the text "u0000"). JSON has backslashes only inside strings,
# and no other way to spell a NUL (a raw NUL byte is invalid JSON), so this finds every NUL
# a JSON parser would produce, in one linear pass, without parsing: a body nested 1,000 levels
# deep cannot exhaust the stack here, and the API parses the body once, itself.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
# Bodies Django parses itself: its form fields refuse NUL characters; files may hold anything.
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class RejectNulMiddleware:
    """Refuse NUL characters in the path, the query string and JSON bodies with a 400.

    PostgreSQL can neither store nor compare text holding one, so it would otherwise surface
    as a server error wherever the value reaches a query; no field here means one. (Django's
    form fields refuse them already.) A body counts as JSON when it says so, and on the API
    whatever it says (ninja reads any body there as JSON).
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
        content_type = request.content_type or ""
        is_json = content_type == "application/json" or content_type.endswith("+json")
        if not is_json and (not request.path.startswith("/api/") or content_type in _FORM_TYPES):
            return False
        if request.method in ("GET", "HEAD", "OPTIONS") and not request.META.get("CONTENT_LENGTH"):
            return False
        # request.body is bounded by DATA_UPLOAD_MAX_MEMORY_SIZE (Django answers 400 beyond).
        body = request.body
        # The plain substring test first: a fast scan (a metrics batch is megabytes), the
        # regex only for a body that has the escape at all.
        return b"\\u0000" in body and _JSON_NUL.search(body) is not None


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
