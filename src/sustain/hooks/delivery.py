"""Delivering one webhook message: sign, POST (through core.outbound), log the attempt, count
failures.

Called by the outbox worker; raising makes the outbox retry with exponential backoff (and give
up after its last attempt). A subscription that fails WEBHOOK_FAILURE_LIMIT times in a row is
disabled and its owner told by e-mail; messages still queued for it are then given up.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sustain.core import outbound, outbox
from sustain.hooks.actions import events_log
from sustain.hooks.models import Delivery, Subscription
from sustain.notifications import mailing

log = logging.getLogger(__name__)
# How much of a failed answer the log keeps (a 2xx keeps none).
EXCERPT_BYTES = 256
USER_AGENT = "Sustain-Webhooks/1"


class DeliveryFailed(Exception):
    pass


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 of `<timestamp>.<body>` keyed with the secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def headers_for(subscription: Subscription, payload: dict[str, Any], body: bytes) -> dict:
    timestamp = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Sustain-Event": payload["event"],
        "X-Sustain-Delivery": payload["delivery"],
        "X-Sustain-Timestamp": timestamp,
        "X-Sustain-Signature": signature(subscription.secret, timestamp, body),
    }


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str, str]:
    """(status code, excerpt of the answer, error) of one POST through the outbound guard.

    Only a failed answer keeps an excerpt (EXCERPT_BYTES, to show why the receiver refused);
    a failure to connect is logged as its kind, never the socket's text."""
    timeout = float(getattr(settings, "WEBHOOK_TIMEOUT", 10))
    try:
        answer = outbound.request(
            "POST", url, body=body, headers=headers, timeout=timeout, max_bytes=EXCERPT_BYTES
        )
    except outbound.OutboundError as exc:
        if exc.kind is outbound.Kind.TIMEOUT:
            return None, "", f"timed out: no answer within {timeout:g} s"
        return None, "", str(exc)
    if answer.ok:
        return answer.status, "", ""
    if answer.is_redirect:
        return answer.status, "", f"redirect not followed (HTTP {answer.status})"
    return answer.status, _excerpt(answer.body), f"HTTP {answer.status}"


def _excerpt(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace")
    return "".join(c if c.isprintable() or c in "\n\t" else "\ufffd" for c in text)


@outbox.handler("webhook")
def deliver(payload: dict[str, Any]) -> None:
    subscription = Subscription.objects.filter(pk=payload["subscription"]).first()
    if subscription is None:
        raise outbox.GiveUp("the subscription was deleted")
    if not subscription.active:
        raise outbox.GiveUp("the subscription is disabled")
    body = payload["body"].encode()
    started = time.monotonic()
    status, excerpt, error = _post(subscription.url, body, headers_for(subscription, payload, body))
    duration_ms = int((time.monotonic() - started) * 1000)
    ok = status is not None and 200 <= status < 300
    record(subscription, payload, status, ok, duration_ms, excerpt, error)
    if not ok:
        raise DeliveryFailed(f"{subscription.url}: {error}")


def record(
    subscription: Subscription,
    payload: dict[str, Any],
    status: int | None,
    ok: bool,
    duration_ms: int,
    excerpt: str,
    error: str,
) -> Delivery:
    """Log one attempt; count failures in a row and disable the subscription at the limit."""
    limit = int(getattr(settings, "WEBHOOK_FAILURE_LIMIT", 10))
    now = timezone.now()
    with transaction.atomic():
        attempt = (
            Delivery.objects.filter(
                subscription=subscription, delivery_id=payload["delivery"]
            ).count()
            + 1
        )
        logged = Delivery.objects.create(
            subscription=subscription,
            delivery_id=payload["delivery"],
            event=payload["event"],
            attempt=attempt,
            created_at=now,
            request_body=payload["body"],
            status_code=status,
            ok=ok,
            duration_ms=duration_ms,
            response_excerpt=excerpt,
            error=error[:500],
        )
        rows = Subscription.objects.filter(pk=subscription.pk)
        if ok:
            rows.exclude(consecutive_failures=0).update(consecutive_failures=0)
            return logged
        rows.update(consecutive_failures=F("consecutive_failures") + 1)
        reason = f"{limit} failed deliveries in a row; the last: {error}"[:300]
        # Only the worker whose update disables it tells the owner.
        if rows.filter(active=True, consecutive_failures__gte=limit).update(
            active=False, disabled_at=now, disabled_reason=reason, updated_at=now
        ):
            subscription.refresh_from_db()
            events_log(
                subscription,
                "disabled",
                None,
                before={"active": True},
                after={"active": False, "reason": reason},
            )
            _tell_owner(subscription)
    return logged


def _tell_owner(subscription: Subscription) -> None:
    owner = subscription.owner
    if owner is None or not owner.is_active:
        log.warning("webhook %s disabled; it has no owner to tell", subscription.pk)
        return
    when = subscription.disabled_at or timezone.now()
    mailing.email(
        [owner],
        "hooks/mail/disabled",
        {"subscription": subscription},
        dedupe_key=f"webhook-disabled:{subscription.pk}:{when.isoformat()}",
    )
