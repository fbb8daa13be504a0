"""Who is on call: overrides first, then the rotation counted in shifts from its start.

Shifts that are whole days hand over at the same local wall-clock time across daylight-saving
changes; shorter shifts count real hours from the first hand-over.

Who may carry a team's pager: an active agent who serves every organization (managers do),
or a scoped agent on that team (its lead or a member). Paging never reveals a ticket: a page
about a ticket goes to the first person in rotation order who may see it (escalation.page).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

from sustain.sla.models import OnCallParticipant, OnCallSchedule

log = logging.getLogger(__name__)


def check_member(team: Any, user: Any, field: str) -> None:
    """Refuse someone who may not be on `team`'s rotation (a ValidationError naming `field`)."""
    if user is None or not user.is_active or not user.is_agent:
        raise ValidationError({field: f"{getattr(user, 'email', user)} is not an active agent."})
    if user.serves_all_organizations or user.is_manager or team is None:
        return
    if team.lead_id == user.pk or team.members.filter(pk=user.pk).exists():
        return
    raise ValidationError(
        {
            field: f"{user.email} serves only some organizations and is not on {team.name}: "
            "only the team's own members may join its on-call rota."
        }
    )


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
    try:
        index = shift_index(schedule, at)
    except (ValueError, TypeError, KeyError, ZeroDivisionError) as exc:  # edited behind clean()
        log.error("on-call schedule %s cannot be used: %s", schedule.slug, exc)
        return None, "schedule misconfigured"
    if index < 0:
        return None, "rotation not started"
    return people[index % len(people)].user, "rotation"


def first_able(
    schedule: OnCallSchedule, start_user_id: int | None, able: Callable[[Any], bool]
) -> object | None:
    """The first participant, from `start_user_id` on in rotation order, for whom `able` holds."""
    people = participants(schedule)
    ids = [p.user_id for p in people]
    first = ids.index(start_user_id) if start_user_id in ids else 0
    for offset in range(len(people)):
        person = people[(first + offset) % len(people)].user
        if able(person):
            return person
    return None


def next_after(schedule: OnCallSchedule, user_id: int) -> object | None:
    """The participant after `user_id` in the rotation (for escalating an unanswered page)."""
    people = participants(schedule)
    if not people:
        return None
    ids = [p.user_id for p in people]
    position = ids.index(user_id) if user_id in ids else -1
    return people[(position + 1) % len(people)].user
