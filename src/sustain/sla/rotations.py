"""On-call rotations: made, changed and deleted by managers and the team's lead, with
participants in order and overrides; pages acknowledged. The SLA actions module re-exports
these for the doors."""

from __future__ import annotations

import copy
from datetime import date, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sustain.accounts.models import Team, User
from sustain.core import events
from sustain.core.errors import Conflict, Forbidden, Invalid, refuse_unknown
from sustain.sla import validation
from sustain.sla.checks import clean_model, refuse_nulls
from sustain.sla.models import OnCallOverride, OnCallParticipant, OnCallSchedule, Page


def create_schedule(
    actor: User,
    *,
    team: Any,
    name: str,
    slug: str,
    participants: list[User],
    rotation_start: date,
    timezone_name: str = "UTC",
    shift_hours: int = 24 * 7,
    handover: Any = "09:00",
    ack_minutes: int = 15,
) -> OnCallSchedule:
    """An on-call rotation for a team; participants take shifts in the order given."""
    if not (actor.is_manager or (team.lead_id == actor.pk)):
        raise Forbidden("Only managers, administrators and the team lead may set up on-call.")
    if isinstance(handover, str):
        handover = time_of_day(handover)
    schedule = OnCallSchedule(
        team=team,
        name=name,
        slug=slug,
        timezone=timezone_name,
        shift_hours=shift_hours,
        handover=handover,
        rotation_start=rotation_start,
        ack_minutes=ack_minutes,
    )
    clean_model(schedule)
    check_participants(team, participants)
    with transaction.atomic():
        if OnCallSchedule.objects.filter(slug=slug).exists():
            raise Conflict(f"A schedule '{slug}' exists.", field="slug")
        schedule.save()
        OnCallParticipant.objects.bulk_create(
            [
                OnCallParticipant(schedule=schedule, user=p, position=i)
                for i, p in enumerate(participants)
            ]
        )
        events.record(
            schedule,
            "created",
            actor=actor,
            is_public=False,
            after={"name": name, "participants": [p.email for p in participants]},
        )
    return schedule


def time_of_day(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise Invalid(f"'{text}' is not a time (HH:MM).", field="handover") from None


def check_participants(team: Team, participants: list[User]) -> None:
    """Who may carry a team's pager: see oncall.check_member."""
    from sustain.sla.oncall import check_member

    if not participants:
        raise Invalid("A rotation needs at least one participant.", field="participants")
    for person in participants:
        try:
            check_member(team, person, "participants")
        except ValidationError as exc:
            raise Invalid(validation.reason(exc).split(": ", 1)[-1], field="participants") from None


def add_override(
    actor: User, schedule: OnCallSchedule, *, user: User, start: Any, end: Any
) -> OnCallOverride:
    if not (actor.is_manager or actor.pk == user.pk or schedule.team.lead_id == actor.pk):
        raise Forbidden("Only managers, the team lead or the person taking the shift may override.")
    override = OnCallOverride(schedule=schedule, user=user, start=start, end=end)
    clean_model(override)
    with transaction.atomic():
        override.save()
        events.record(
            schedule,
            "override_added",
            actor=actor,
            is_public=False,
            after={"user": user.email, "start": start.isoformat(), "end": end.isoformat()},
        )
    return override


def remove_override(actor: User, override: OnCallOverride) -> None:
    """Take an override back: who may add it (a manager, the team lead, the person) may remove it."""
    schedule = override.schedule
    if not (actor.is_manager or actor.pk == override.user_id or schedule.team.lead_id == actor.pk):
        raise Forbidden(
            "Only managers, the team lead or the person taking the shift may remove it."
        )
    with transaction.atomic():
        events.record(
            schedule,
            "override_removed",
            actor=actor,
            is_public=False,
            before={
                "user": override.user.email,
                "start": override.start.isoformat(),
                "end": override.end.isoformat(),
            },
        )
        override.delete()


def acknowledge(actor: User, page: Page) -> Page:
    """The paged person (or a manager) acknowledges: nobody else is paged for it."""
    if actor.pk != page.user_id and not actor.is_manager:
        raise Forbidden("Only the person paged or a manager may acknowledge.")
    with transaction.atomic():
        claimed = Page.objects.filter(pk=page.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now()
        )
        if not claimed:
            raise Conflict("This page is already acknowledged.")
        page.refresh_from_db()
        if page.ticket is not None:
            events.record(
                page.ticket,
                "page_acknowledged",
                actor=actor,
                is_public=False,
                after={"user": actor.name, "attempt": page.attempt},
            )
    return page


def update_schedule(
    actor: User, schedule: OnCallSchedule, *, participants: list[User] | None = None, **changes: Any
) -> OnCallSchedule:
    if not (actor.is_manager or schedule.team.lead_id == actor.pk):
        raise Forbidden("Only managers, administrators and the team lead may change on-call.")
    refuse_nulls(changes)
    allowed = {"name", "shift_hours", "ack_minutes", "rotation_start", "handover", "team"}
    refuse_unknown(changes, allowed | {"timezone_name"}, "Cannot change {first}.")
    if "timezone_name" in changes:
        changes["timezone"] = changes.pop("timezone_name")
    if isinstance(changes.get("handover"), str):
        changes["handover"] = time_of_day(changes["handover"])
    team = changes.get("team", schedule.team)
    if team.pk != schedule.team_id and not (actor.is_manager or team.lead_id == actor.pk):
        raise Forbidden("Only managers and that team's lead may give it this rotation.")
    edited = copy.copy(OnCallSchedule.objects.get(pk=schedule.pk))
    for key, value in changes.items():
        setattr(edited, key, value)
    clean_model(edited)
    if participants is None and "team" in changes:
        participants = [p.user for p in schedule.participants.select_related("user")]
    if participants is not None:
        check_participants(team, participants)
    with transaction.atomic():
        for key, value in changes.items():
            setattr(schedule, key, value)
        schedule.save()
        if participants is not None:
            schedule.participants.all().delete()
            OnCallParticipant.objects.bulk_create(
                [
                    OnCallParticipant(schedule=schedule, user=p, position=i)
                    for i, p in enumerate(participants)
                ]
            )
        events.record(
            schedule,
            "updated",
            actor=actor,
            is_public=False,
            after={
                **{k: str(v) for k, v in changes.items()},
                **({"participants": [p.email for p in participants]} if participants else {}),
            },
        )
    return schedule


def delete_schedule(actor: User, schedule: OnCallSchedule) -> None:
    if not (actor.is_manager or schedule.team.lead_id == actor.pk):
        raise Forbidden("Only managers, administrators and the team lead may delete on-call.")
    with transaction.atomic():
        events.record(
            schedule, "deleted", actor=actor, is_public=False, before={"name": schedule.name}
        )
        schedule.delete()
