"""Request id, the viewer's time zone, and Idempotency-Key replay for API writes."""

from __future__ import annotations

import hashlib
import re
import uuid
import zoneinfo
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils import timezone

from sustain.core import context
from sustain.core.models import IdempotencyRecord

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
        return _JSON_NUL.search(request.body) is not None


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


def idempotent_response(
    request: HttpRequest, principal: str, call: Callable[[], HttpResponse]
) -> HttpResponse:
    """Run `call` once per (principal, Idempotency-Key); repeats get the first answer."""
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        return call()
    if len(key) > 200:
        return JsonResponse(
            {
                "detail": "Idempotency-Key is longer than 200 characters.",
                "errors": [{"field": "Idempotency-Key", "message": "at most 200 characters"}],
            },
            status=400,
        )
    fingerprint = hashlib.sha256(
        (request.method or "").encode() + b" " + request.path.encode() + b"\n" + request.body
    ).hexdigest()
    try:
        with transaction.atomic():  # a savepoint: the duplicate must not break an outer transaction
            record = IdempotencyRecord.objects.create(
                principal=principal, key=key, fingerprint=fingerprint
            )
    except IntegrityError:
        first = IdempotencyRecord.objects.get(principal=principal, key=key)
        if first.fingerprint != fingerprint:
            return JsonResponse(
                {
                    "detail": "This Idempotency-Key was used for a different request.",
                    "errors": [{"field": "Idempotency-Key", "message": "reused with another body"}],
                },
                status=422,
            )
        if first.status_code is None:
            return JsonResponse(
                {
                    "detail": "The first request with this Idempotency-Key is still running.",
                    "errors": [],
                },
                status=409,
            )
        replay = HttpResponse(
            bytes(first.body), status=first.status_code, content_type=first.content_type
        )
        replay["Idempotent-Replayed"] = "true"
        return replay
    response = call()
    if response.status_code >= 500:
        record.delete()  # let the client retry
    else:
        record.status_code = response.status_code
        record.content_type = response.get("Content-Type", "")
        record.body = response.content
        record.save(update_fields=["status_code", "content_type", "body"])
    return response


class IdempotencyMiddleware:
    """Apply Idempotency-Key to API POSTs, keyed by the caller (token or session user)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or not request.path.startswith("/api/"):
            return self.get_response(request)
        principal = _principal(request)
        if principal is None:
            return self.get_response(request)
        return idempotent_response(request, principal, lambda: self.get_response(request))


def _principal(request: HttpRequest) -> str | None:
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        digest = hashlib.sha256(authorization[7:].strip().encode()).hexdigest()
        return f"token:{digest[:40]}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None
