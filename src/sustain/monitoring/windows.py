"""Windows: one-off or recurring periods, made and checked; which one holds an alert.

A recurring window's occurrences come from its RRULE (python-dateutil), expanded in the
window's time zone from the first occurrence's local start, so "every Sunday 02:00–04:00
Europe/Paris" stays at 02:00 local across daylight-saving changes. A window on an item covers
what the CMDB says depends on it (an alert on the checkout service is held while its database
is in maintenance); a window on the organization covers all of its items.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sustain.accounts.models import Organization, User
from sustain.cmdb import graph
from sustain.cmdb.models import ConfigItem
from sustain.core import events, tenancy
from sustain.core.errors import Forbidden, Invalid
from sustain.monitoring.models import Window

NAME_MAX = 200
RRULE_MAX = 500
LONGEST = timedelta(days=31)  # one occurrence at most this long
HORIZON = timedelta(days=366 * 2)  # occurrences listed at most this far ahead


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"Unknown time zone '{name}'.", field="timezone") from None


def check_rrule(text: str, start: datetime, zone: ZoneInfo) -> str:
    text = (text or "").strip()
    if not text:
        return ""
    if len(text) > RRULE_MAX:
        raise Invalid(f"The RRULE is longer than {RRULE_MAX} characters.", field="rrule")
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    try:
        rule = rrulestr(text, dtstart=start.astimezone(zone).replace(tzinfo=None))
        next(iter(rule), None)  # the rule can produce its first occurrence
    except (ValueError, TypeError) as exc:
        raise Invalid(f"The RRULE cannot be read: {exc}.", field="rrule") from None
    return text


def create_window(
    actor: User,
    organization: Organization,
    *,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str = "",
    rrule: str = "",
    zone: str = "UTC",
    whole_organization: bool = False,
    config_items: Iterable[ConfigItem] = (),
    purpose: str = Window.Purpose.MAINTENANCE,
) -> Window:
    """A window for `organization` on the given items (or all of them); agents and above."""
    if not actor.is_agent:
        raise Forbidden("Only staff may plan windows.")
    if not tenancy.can_see_organization(actor, organization.pk):
        raise Forbidden("You may not plan windows for this organization.")
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise Invalid(f"Give the window a name of at most {NAME_MAX} characters.", field="name")
    if purpose not in Window.Purpose.values:
        raise Invalid(
            f"purpose must be one of {', '.join(Window.Purpose.values)}.", field="purpose"
        )
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise Invalid("Give the start and the end with their offset.", field="starts_at")
    if ends_at <= starts_at:
        raise Invalid("The window must end after it starts.", field="ends_at")
    if ends_at - starts_at > LONGEST:
        raise Invalid("One occurrence may last at most 31 days.", field="ends_at")
    tz = zone_of(zone)
    rule = check_rrule(rrule, starts_at, tz)
    items = list(config_items)
    for item in items:
        if item.organization_id != organization.pk:
            raise Invalid(f"{item.name} belongs to another organization.", field="config_items")
    if not items and not whole_organization:
        raise Invalid(
            "Choose the items the window covers, or the whole organization.", field="config_items"
        )
    with transaction.atomic():
        window = Window.objects.create(
            organization=organization,
            purpose=purpose,
            name=name,
            reason=(reason or "").strip(),
            starts_at=starts_at,
            ends_at=ends_at,
            rrule=rule,
            time_zone=zone,
            whole_organization=whole_organization,
            created_by=actor,
        )
        window.config_items.set(items)
        events.record(window, "created", actor=actor, after={"name": name, "rrule": rule})
    return window


def occurrences(
    window: Window, after: datetime, before: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """(start, end) of each occurrence overlapping [after, before), in UTC."""
    length = window.ends_at - window.starts_at
    if not window.rrule:
        if window.starts_at < before and window.ends_at > after:
            yield window.starts_at, window.ends_at
        return
    tz = zone_of(window.time_zone)
    local_start = window.starts_at.astimezone(tz).replace(tzinfo=None)
    rule = rrulestr(window.rrule, dtstart=local_start)
    earliest = (after - length).astimezone(tz).replace(tzinfo=None)
    latest = min(before, after + HORIZON).astimezone(tz).replace(tzinfo=None)
    for local in rule.between(earliest, latest, inc=True):
        start = local.replace(tzinfo=tz).astimezone(UTC)
        end = start + length
        if start < before and end > after:
            yield start, end


def occurrence_at(window: Window, at: datetime) -> tuple[datetime, datetime] | None:
    """The occurrence of `window` that `at` falls in, if any."""
    return next(occurrences(window, at, at + timedelta(microseconds=1)), None)


def holding(
    organization_id: int, item_id: int | None, at: datetime
) -> tuple[Window, datetime] | None:
    """The maintenance window holding an alert on `item_id` (or the organization) at `at`,
    and when its occurrence ends (the latest end if several hold it)."""
    covered = Q(whole_organization=True)
    if item_id is not None:
        items = {item_id, *graph.upstream([item_id])}
        covered |= Q(config_items__in=items)
    candidates = (
        Window.objects.filter(organization_id=organization_id, purpose=Window.Purpose.MAINTENANCE)
        .filter(covered)
        .filter(starts_at__lte=at)
        .distinct()
    )
    best: tuple[Window, datetime] | None = None
    for window in candidates:
        found = occurrence_at(window, at)
        if found is not None and (best is None or found[1] > best[1]):
            best = (window, found[1])
    return best
