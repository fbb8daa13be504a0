"""Idempotency-Key for API POSTs: a repeat gets the first answer and creates nothing new.

The key's record, the request's writes and the answer commit in one transaction: the
middleware opens it, claims the key by inserting its record, runs the view inside, and
writes the answer on the record before the commit. A process killed mid-request (SIGKILL,
power loss) therefore leaves either the write and its answer, which a retry replays, or
neither, and the retry runs afresh; no key can be left "still running" with its ticket
created (a lease that expires would instead create the second ticket the key exists to
prevent). A duplicate sent while the first is in flight waits for it: on PostgreSQL on the
unique index entry of the uncommitted record, on SQLite on the database's write lock (Sustain's
transactions are IMMEDIATE); then it finds the committed answer. A 5xx answer rolls back the
write and the record, so the retry runs again.

Only authenticated callers (a valid token, or a session) keep keys: a random bearer gets its
401 without a row. Records older than SUSTAIN_IDEMPOTENCY_RETENTION_HOURS are purged by the
worker (core/tasks.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from sustain.core.models import IdempotencyRecord

KEY_MAX = 200


def _refusal(status: int, detail: str, message: str | None = None) -> JsonResponse:
    errors = [{"field": "Idempotency-Key", "message": message}] if message else []
    return JsonResponse({"detail": detail, "errors": errors}, status=status)


# Answers about the caller rather than the request (authentication, permission at this moment,
# the throttle, a failed CSRF check): kept, they would be replayed after the cause is gone.
NOT_KEPT = frozenset({401, 403, 429})


def idempotent_response(
    request: HttpRequest, principal: str, call: Callable[[], HttpResponse]
) -> HttpResponse:
    """Run `call` once per (principal, Idempotency-Key); repeats get the first answer."""
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        return call()
    if len(key) > KEY_MAX:
        return _refusal(
            400,
            f"Idempotency-Key is longer than {KEY_MAX} characters.",
            f"at most {KEY_MAX} characters",
        )
    fingerprint = hashlib.sha256(
        (request.method or "").encode() + b" " + request.path.encode() + b"\n" + request.body
    ).hexdigest()
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: the duplicate keeps the transaction usable
                record = IdempotencyRecord.objects.create(
                    principal=principal, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            return _repeat(principal, key, fingerprint)
        view = transaction.savepoint()
        response = call()
        if response.status_code >= 500 or response.status_code in NOT_KEPT:
            transaction.set_rollback(True)  # neither the write nor the key: the retry runs again
            return response
        try:
            transaction.savepoint_commit(view)
        except DatabaseError:
            # A statement of the view failed and the view answered anyway (PostgreSQL then
            # refuses every statement until a rollback): nothing it wrote is kept.
            transaction.savepoint_rollback(view)
            if response.status_code < 400:
                transaction.set_rollback(True)
                return _refusal(500, "The request failed; nothing was changed. Try again.")
        record.status_code = response.status_code
        record.content_type = response.get("Content-Type", "")
        record.body = response.content
        record.save(update_fields=["status_code", "content_type", "body"])
    return response


def _repeat(principal: str, key: str, fingerprint: str) -> HttpResponse:
    """The answer to a key already used (its first request committed: we waited for it)."""
    first = IdempotencyRecord.objects.get(principal=principal, key=key)
    if first.fingerprint != fingerprint:
        return _refusal(
            422,
            "This Idempotency-Key was used for a different request.",
            "reused with another body",
        )
    if first.status_code is None:
        # Only a record written before answers were committed with their writes; purged with
        # the old keys after the retention.
        return _refusal(409, "The first request with this Idempotency-Key did not finish.")
    replay = HttpResponse(
        bytes(first.body), status=first.status_code, content_type=first.content_type
    )
    replay["Idempotent-Replayed"] = "true"
    return replay


class IdempotencyMiddleware:
    """Apply Idempotency-Key to API POSTs, keyed by the authenticated caller."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method != "POST"
            or not request.path.startswith("/api/")
            or "Idempotency-Key" not in request.headers
        ):
            return self.get_response(request)
        principal = _principal(request)
        if principal is None:
            return self.get_response(request)
        return idempotent_response(request, principal, lambda: self.get_response(request))


# Who a bearer token's keys belong to, or None for no usable token: registered by the accounts
# app at start-up (core knows no tokens); until then a bearer request keeps no keys.
_bearer_principal: Callable[[HttpRequest, str], str | None] | None = None


def register_bearer_principal(resolve: Callable[[HttpRequest, str], str | None]) -> None:
    global _bearer_principal
    _bearer_principal = resolve


def _principal(request: HttpRequest) -> str | None:
    """Whose keys these are: a usable token (each token its own), or the session's user; None
    for anyone else, who keeps no keys (the API answers them 401)."""
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        raw = authorization[7:].strip()
        return _bearer_principal(request, raw) if _bearer_principal is not None else None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        return f"user:{user.pk}"
    return None


def purge(now: datetime | None = None) -> int:
    """Forget the keys older than the retention; the number forgotten."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_RETENTION_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
