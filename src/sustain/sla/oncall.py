"""Who is on call: overrides first, then the rotation counted in shifts from its start.

Shifts that are whole days hand over at the same local wall-clock time across daylight-saving
changes; shorter shifts count real hours from the first hand-over.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sustain.sla.models import OnCallParticipant, OnCallSchedule


def shift_index(schedule: OnCallSchedule, at: datetime) -> int:
    """How many shifts have begun since the rotation started (negative before it)."""
    zone = ZoneInfo(schedule.timezone)
    local = at.astimezone(zone)
    first = datetime.combine(schedule.rotation_start, schedule.handover, tzinfo=zone)
    if schedule.shift_hours % 24 == 0:
        days = (local.date() - schedule.rotation_start).days
        if local.timetz().replace(tzinfo=None) < schedule.handover:
            days -= 1
        return days // (schedule.shift_hours // 24)
    return int((at - first) // timedelta(hours=schedule.shift_hours))


def participants(schedule: OnCallSchedule) -> list[OnCallParticipant]:
    return list(schedule.participants.select_related("user").order_by("position"))


def on_call(schedule: OnCallSchedule, at: datetime) -> tuple[object | None, str]:
    """(user, why) for the instant `at`: the newest override covering it, else the rotation."""
    override = (
        schedule.overrides.filter(start__lte=at, end__gt=at)
        .select_related("user")
        .order_by("-created_at")
        .first()
    )
    if override is not None:
        return override.user, "override"
    people = participants(schedule)
    if not people:
        return None, "nobody"
    index = shift_index(schedule, at)
    if index < 0:
        return None, "rotation not started"
    return people[index % len(people)].user, "rotation"


def next_after(schedule: OnCallSchedule, user_id: int) -> object | None:
    """The participant after `user_id` in the rotation (for escalating an unanswered page)."""
    people = participants(schedule)
    if not people:
        return None
    ids = [p.user_id for p in people]
    position = ids.index(user_id) if user_id in ids else -1
    return people[(position + 1) % len(people)].user
