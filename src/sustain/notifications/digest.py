"""The daily digest: a person's held notifications gathered into one mail at their hour.

Run by the worker every quarter of an hour. For each person with held items, the cut-off is
the last time their local clock showed their digest hour; the items held before it are claimed
with one conditional UPDATE (so two workers never send them twice) and mailed together.
Items held after the cut-off wait for the next day's digest.
"""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from sustain.accounts.models import User
from sustain.core import outbox
from sustain.notifications import mailing
from sustain.notifications.models import DigestItem, Preferences

DEFAULT_HOUR = Preferences._meta.get_field("digest_hour").get_default()
BATCH = 500


def _zone(user: Any) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def cutoff(user: Any, now: datetime) -> datetime:
    """The last instant, at or before `now`, when it was the user's digest hour where they are."""
    prefs = getattr(user, "notification_preferences", None)
    hour = prefs.digest_hour if prefs is not None else DEFAULT_HOUR
    zone = _zone(user)
    local = now.astimezone(zone)
    today = datetime.combine(local.date(), time(hour), tzinfo=zone)
    return (
        today
        if today <= local
        else datetime.combine(local.date() - timedelta(days=1), time(hour), tzinfo=zone)
    )


def send_digest(user: Any, before: datetime, now: datetime) -> int:
    """Mail the user's items held before `before` as one digest; return how many items."""
    _render_waiting(now)
    with transaction.atomic():
        ids = list(
            DigestItem.objects.filter(
                user=user, sent_at__isnull=True, created_at__lt=before
            ).values_list("id", flat=True)[:BATCH]
        )
        if not ids:
            return 0
        batch = uuid.uuid4().hex
        DigestItem.objects.filter(id__in=ids, sent_at__isnull=True).update(
            digest=batch, sent_at=now
        )
        items = list(
            DigestItem.objects.filter(digest=batch)
            .select_related("ticket")
            .order_by("created_at", "id")
        )
        if items:
            mailing.email(
                [user],
                "notifications/mail/digest",
                {"items": items, "since": items[0].created_at},
                dedupe_key=f"digest:{batch}",
            )
    return len(items)


def _render_waiting(now: datetime) -> None:
    """Notifications still waiting for the worker become their digest items first."""
    outbox.deliver_due(now, kinds=(mailing.NOTIFICATION,))


def send_due(now: datetime | None = None) -> int:
    """Every digest that is due; returns how many were sent."""
    now = now or timezone.now()
    _render_waiting(now)
    waiting = DigestItem.objects.filter(sent_at__isnull=True).values("user_id")
    sent = 0
    for user in User.objects.filter(pk__in=waiting).select_related("notification_preferences"):
        sent += bool(send_digest(user, cutoff(user, now), now))
    return sent
