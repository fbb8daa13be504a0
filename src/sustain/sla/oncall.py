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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
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


def eligible(team: Any, people: Any) -> Any:
    """The people of `people` (a User queryset) who may carry `team`'s pager, as check_member
    decides one at a time: active agents serving every organization, managers, or the team's
    own lead and members."""
    from django.db.models import Q

    from sustain.accounts.models import Role

    agents = people.filter(is_active=True).exclude(role=Role.CUSTOMER)
    if team is None:
        return agents
    anyone = Q(serves_all_organizations=True) | Q(role__in=(Role.MANAGER, Role.ADMIN))
    own = Q(pk=team.lead_id) | Q(pk__in=team.members.values("pk"))
    return agents.filter(anyone | own).distinct()


def shift_start(schedule: OnCallSchedule, index: int) -> datetime:
    """When shift number `index` begins (shift 0 at the rotation's first hand-over)."""
    zone = ZoneInfo(schedule.timezone)
    if schedule.shift_hours % 24 == 0:  # whole days: the same wall-clock hand-over
        day = schedule.rotation_start + timedelta(days=index * (schedule.shift_hours // 24))
        return datetime.combine(day, schedule.handover, tzinfo=zone)
    first = datetime.combine(schedule.rotation_start, schedule.handover, tzinfo=zone)
    return first.astimezone(UTC) + timedelta(hours=index * schedule.shift_hours)  # real hours


@dataclass(frozen=True)
class Shift:
    """Who holds the pager from `start` to `end`, and why ("rotation" or "override")."""

    start: datetime
    end: datetime
    user: Any
    source: str
    position: int  # the person's place in the rotation (-1 when not on it): a colour


MAX_SHIFTS = 500


def shifts(schedule: OnCallSchedule, start: datetime, end: datetime) -> list[Shift]:
    """The shifts between `start` and `end`, overrides laid over the rotation, as `on_call`
    would answer for each instant (the newest override wins), neighbours with the same person
    and reason merged. A few queries, whatever the length of the window."""
    people = participants(schedule)
    overrides = list(schedule.overrides.filter(start__lt=end, end__gt=start).select_related("user"))
    edges = {start, end}
    edges.update(o.start for o in overrides if start < o.start < end)
    edges.update(o.end for o in overrides if start < o.end < end)
    if people:
        index = max(shift_index(schedule, start), 0)
        while len(edges) < MAX_SHIFTS:
            begins = shift_start(schedule, index)
            if begins >= end:
                break
            if begins > start:
                edges.add(begins)
            index += 1
    found: list[Shift] = []
    ordered = sorted(edges)
    for begin, until in pairwise(ordered):
        user, source = _holder(schedule, people, overrides, begin)
        if user is None:
            continue
        if (
            found
            and found[-1].user == user
            and found[-1].source == source
            and (found[-1].end == begin)
        ):
            found[-1] = Shift(found[-1].start, until, user, source, found[-1].position)
            continue
        ids = [p.user_id for p in people]
        position = ids.index(user.pk) if user.pk in ids else -1
        found.append(Shift(begin, until, user, source, position))
    return found


def _holder(
    schedule: OnCallSchedule, people: list[OnCallParticipant], overrides: list, at: datetime
) -> tuple[Any, str]:
    covering = [o for o in overrides if o.start <= at < o.end]
    if covering:
        return max(covering, key=lambda o: o.created_at).user, "override"
    index = shift_index(schedule, at)
    if not people or index < 0:
        return None, "nobody"
    return people[index % len(people)].user, "rotation"
