"""Changes to calendars and policies; each edit recomputes the open tickets it governs."""

from __future__ import annotations

from datetime import date
from typing import Any

import holidays as holiday_data
from django.db import transaction
from django.utils import timezone

from sustain.accounts.actions import require_admin
from sustain.accounts.models import Organization, Team, User
from sustain.core import events
from sustain.core.businesstime import Schedule, ScheduleError, parse_hours
from sustain.core.errors import Conflict, Forbidden, Invalid
from sustain.sla.models import (
    Calendar,
    EscalationLevel,
    EscalationRule,
    Holiday,
    Metric,
    OnCallOverride,
    OnCallParticipant,
    OnCallSchedule,
    Page,
    Policy,
    Target,
)


def _check_schedule(timezone_name: str, hours: dict, always: bool) -> None:
    try:
        Schedule(timezone_name, parse_hours(hours or {}), always=always)
    except ScheduleError as exc:
        raise Invalid(str(exc), field="hours") from None
    except (ValueError, KeyError):
        raise Invalid(f"Unknown time zone '{timezone_name}'.", field="timezone") from None


def _parse_holidays(values: list[str] | None) -> list[date]:
    parsed = []
    for value in values or []:
        try:
            parsed.append(date.fromisoformat(value))
        except (TypeError, ValueError):
            raise Invalid(f"'{value}' is not a date (YYYY-MM-DD).", field="holidays") from None
    return parsed


def create_calendar(
    actor: User,
    *,
    name: str,
    timezone_name: str = "UTC",
    hours: dict | None = None,
    always: bool = False,
    holidays: list[str] | None = None,
    organization: Organization | None = None,
) -> Calendar:
    require_admin(actor)
    if not (name or "").strip():
        raise Invalid("A name is required.", field="name")
    _check_schedule(timezone_name, hours or {}, always)
    dates = _parse_holidays(holidays)
    with transaction.atomic():
        if Calendar.objects.filter(name=name.strip()).exists():
            raise Conflict(f"A calendar named '{name}' exists.", field="name")
        calendar = Calendar.objects.create(
            name=name.strip(),
            timezone=timezone_name,
            hours=hours or {},
            always=always,
            organization=organization,
        )
        Holiday.objects.bulk_create(
            [Holiday(calendar=calendar, date=d) for d in sorted(set(dates))]
        )
        events.record(
            calendar,
            "created",
            actor=actor,
            is_public=False,
            after={"name": calendar.name, "timezone": timezone_name},
        )
    return calendar


def _refuse_nulls(changes: dict[str, Any], nullable: frozenset[str] = frozenset()) -> None:
    """PATCH with null means "clear"; fields that cannot be empty say so instead of failing."""
    for key, value in changes.items():
        if value is None and key not in nullable:
            raise Invalid(f"{key} cannot be empty.", field=key)


def update_calendar(actor: User, calendar: Calendar, **changes: Any) -> Calendar:
    """Edit hours, zone or holidays; open tickets under it are recomputed in the background."""
    require_admin(actor)
    _refuse_nulls(changes)
    allowed = {"name", "timezone_name", "hours", "always", "holidays"}
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid(f"Cannot change {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    zone = changes.get("timezone_name", calendar.timezone)
    hours = changes.get("hours", calendar.hours)
    always = changes.get("always", calendar.always)
    _check_schedule(zone, hours, always)
    dates = _parse_holidays(changes["holidays"]) if "holidays" in changes else None
    with transaction.atomic():
        before = {"timezone": calendar.timezone, "hours": calendar.hours, "always": calendar.always}
        calendar.name = changes.get("name", calendar.name)
        calendar.timezone, calendar.hours, calendar.always = zone, hours, always
        calendar.updated_at = timezone.now()
        calendar.save()
        if dates is not None:
            calendar.holidays.all().delete()
            Holiday.objects.bulk_create(
                [Holiday(calendar=calendar, date=d) for d in sorted(set(dates))]
            )
        old, new = events.changes(before, {"timezone": zone, "hours": hours, "always": always})
        events.record(calendar, "updated", actor=actor, before=old, after=new, is_public=False)
        _recompute_later(calendar_id=calendar.pk)
    return calendar


def import_holidays(
    actor: User, calendar: Calendar, *, country: str, year: int, subdivision: str = ""
) -> int:
    """Add a country's (and region's) public holidays of one year from the `holidays` package."""
    require_admin(actor)
    try:
        found = holiday_data.country_holidays(
            country.upper(), subdiv=subdivision or None, years=year
        )
    except NotImplementedError:
        raise Invalid(f"No holiday data for country '{country}'.", field="country") from None
    except Exception as exc:  # the package raises a plain error for an unknown subdivision
        raise Invalid(str(exc), field="subdivision") from None
    with transaction.atomic():
        existing = set(calendar.holidays.values_list("date", flat=True))
        new = [
            Holiday(calendar=calendar, date=d, name=n)
            for d, n in sorted(found.items())
            if d not in existing
        ]
        Holiday.objects.bulk_create(new)
        events.record(
            calendar,
            "holidays_imported",
            actor=actor,
            is_public=False,
            after={"country": country, "subdivision": subdivision, "year": year, "added": len(new)},
        )
        _recompute_later(calendar_id=calendar.pk)
    return len(new)


def _targets(values: list[dict]) -> list[tuple[int, str, int]]:
    checked = []
    for value in values:
        priority, metric, minutes = value.get("priority"), value.get("metric"), value.get("minutes")
        if priority not in (1, 2, 3, 4):
            raise Invalid("Each target needs a priority 1-4.", field="targets.priority")
        if metric not in Metric.values:
            raise Invalid(
                f"metric must be one of {', '.join(Metric.values)}.", field="targets.metric"
            )
        if not isinstance(minutes, int) or minutes <= 0:
            raise Invalid("minutes must be a positive whole number.", field="targets.minutes")
        checked.append((priority, metric, minutes))
    if len({(p, m) for p, m, _ in checked}) != len(checked):
        raise Invalid("Each priority and metric may have one target.", field="targets")
    return checked


POLICY_FIELDS = {
    "name",
    "order",
    "active",
    "calendar",
    "organization",
    "kind",
    "priority",
    "product",
    "config_item",
    "warn_percent",
    "pause_statuses",
    "targets",
}


def _check_policy(fields: dict) -> None:
    if "warn_percent" in fields and not 1 <= int(fields["warn_percent"]) <= 99:
        raise Invalid("warn_percent must be between 1 and 99.", field="warn_percent")
    statuses = fields.get("pause_statuses")
    if statuses is not None and not set(statuses) <= {"new", "open", "pending"}:
        raise Invalid("Only new, open and pending can pause a clock.", field="pause_statuses")


def create_policy(actor: User, **fields: Any) -> Policy:
    require_admin(actor)
    unknown = set(fields) - POLICY_FIELDS
    if unknown:
        raise Invalid(f"Unknown field {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    if not (fields.get("name") or "").strip():
        raise Invalid("A name is required.", field="name")
    if fields.get("calendar") is None:
        raise Invalid("A calendar is required.", field="calendar")
    _check_policy(fields)
    targets = _targets(fields.pop("targets", []))
    fields.setdefault("pause_statuses", ["pending"])
    with transaction.atomic():
        if Policy.objects.filter(name=fields["name"]).exists():
            raise Conflict(f"A policy named '{fields['name']}' exists.", field="name")
        policy = Policy.objects.create(**fields)
        Target.objects.bulk_create(
            [Target(policy=policy, priority=p, metric=m, minutes=n) for p, m, n in targets]
        )
        events.record(policy, "created", actor=actor, is_public=False, after={"name": policy.name})
        _recompute_later(everything=True)
    return policy


def update_policy(actor: User, policy: Policy, **changes: Any) -> Policy:
    require_admin(actor)
    _refuse_nulls(changes, frozenset({"organization", "priority", "product", "config_item"}))
    unknown = set(changes) - POLICY_FIELDS
    if unknown:
        raise Invalid(f"Unknown field {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    _check_policy(changes)
    targets = _targets(changes.pop("targets")) if "targets" in changes else None
    with transaction.atomic():
        for key, value in changes.items():
            setattr(policy, key, value)
        policy.updated_at = timezone.now()
        policy.save()
        if targets is not None:
            policy.targets.all().delete()
            Target.objects.bulk_create(
                [Target(policy=policy, priority=p, metric=m, minutes=n) for p, m, n in targets]
            )
        events.record(
            policy,
            "updated",
            actor=actor,
            is_public=False,
            after={k: str(v) for k, v in changes.items()},
        )
        # Conditions and order decide which tickets a policy governs: recompute them all.
        _recompute_later(everything=True)
    return policy


def _recompute_later(*, calendar_id: int | None = None, everything: bool = False) -> None:
    from sustain.sla.tasks import recompute_open_tickets

    transaction.on_commit(
        lambda: recompute_open_tickets(calendar_id=calendar_id, everything=everything)
    )


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
    from datetime import time as time_of_day
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not (actor.is_admin or (team.lead_id == actor.pk)):
        raise Forbidden("Only administrators and the team lead may set up on-call.")
    try:
        ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"Unknown time zone '{timezone_name}'.", field="timezone") from None
    if shift_hours <= 0:
        raise Invalid("shift_hours must be positive.", field="shift_hours")
    if not participants:
        raise Invalid("A rotation needs at least one participant.", field="participants")
    for person in participants:
        if not person.is_agent:
            raise Invalid(f"{person.email} is not an agent.", field="participants")
    if isinstance(handover, str):
        try:
            handover = time_of_day.fromisoformat(handover)
        except ValueError:
            raise Invalid(f"'{handover}' is not a time (HH:MM).", field="handover") from None
    with transaction.atomic():
        if OnCallSchedule.objects.filter(slug=slug).exists():
            raise Conflict(f"A schedule '{slug}' exists.", field="slug")
        schedule = OnCallSchedule.objects.create(
            team=team,
            name=name,
            slug=slug,
            timezone=timezone_name,
            shift_hours=shift_hours,
            handover=handover,
            rotation_start=rotation_start,
            ack_minutes=ack_minutes,
        )
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


def add_override(
    actor: User, schedule: OnCallSchedule, *, user: User, start: Any, end: Any
) -> OnCallOverride:
    if not (actor.is_manager or actor.pk == user.pk or schedule.team.lead_id == actor.pk):
        raise Forbidden("Only managers, the team lead or the person taking the shift may override.")
    if not user.is_agent:
        raise Invalid(f"{user.email} is not an agent.", field="user")
    if end <= start:
        raise Invalid("The override must end after it starts.", field="end")
    with transaction.atomic():
        override = OnCallOverride.objects.create(schedule=schedule, user=user, start=start, end=end)
        events.record(
            schedule,
            "override_added",
            actor=actor,
            is_public=False,
            after={"user": user.email, "start": start.isoformat(), "end": end.isoformat()},
        )
    return override


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


def create_escalation_rule(actor: User, *, levels: list[dict], **fields: Any) -> EscalationRule:
    """A rule and its levels; each level's actions are checked before anything is written."""
    require_admin(actor)
    if fields.get("condition") not in EscalationRule.Condition.values:
        raise Invalid(
            f"condition must be one of {', '.join(EscalationRule.Condition.values)}.",
            field="condition",
        )
    if not levels:
        raise Invalid("A rule needs at least one level.", field="levels")
    for level in levels:
        for action in level.get("actions", []):
            check_escalation_action(action)
    with transaction.atomic():
        if EscalationRule.objects.filter(name=fields.get("name")).exists():
            raise Conflict(f"A rule named '{fields.get('name')}' exists.", field="name")
        rule = EscalationRule.objects.create(**fields)
        EscalationLevel.objects.bulk_create(
            [
                EscalationLevel(
                    rule=rule,
                    level=i + 1,
                    delay_minutes=lv.get("delay_minutes", 0),
                    actions=lv.get("actions", []),
                )
                for i, lv in enumerate(levels)
            ]
        )
        events.record(rule, "created", actor=actor, is_public=False, after={"name": rule.name})
    return rule


ACTIONS = {"notify", "page", "reassign", "raise_priority", "add_watchers"}
RECIPIENTS = {"assignee", "team_lead", "managers", "on_call"}


def check_escalation_action(action: dict) -> None:
    kind = action.get("do")
    if kind not in ACTIONS:
        raise Invalid(
            f"Each action's 'do' is one of {', '.join(sorted(ACTIONS))}.", field="levels.actions"
        )
    if kind == "notify" and action.get("who") not in RECIPIENTS:
        raise Invalid(
            f"notify 'who' is one of {', '.join(sorted(RECIPIENTS))}.", field="levels.actions"
        )
    if kind == "reassign" and not Team.objects.filter(slug=action.get("team") or "").exists():
        raise Invalid(f"No team '{action.get('team')}'.", field="levels.actions")
    if (
        kind == "page"
        and action.get("schedule")
        and not OnCallSchedule.objects.filter(slug=action["schedule"]).exists()
    ):
        raise Invalid(f"No on-call schedule '{action['schedule']}'.", field="levels.actions")


def delete_calendar(actor: User, calendar: Calendar) -> None:
    require_admin(actor)
    if calendar.policies.exists():
        raise Conflict(f"Policies use {calendar.name}; move them to another calendar first.")
    with transaction.atomic():
        events.record(
            calendar, "deleted", actor=actor, is_public=False, before={"name": calendar.name}
        )
        calendar.delete()


def delete_policy(actor: User, policy: Policy) -> None:
    """Only a policy no ticket was measured by can go; otherwise deactivate it (history stays)."""
    require_admin(actor)
    if policy.clocks.exists():
        raise Conflict(f"Tickets were measured by {policy.name}; deactivate it instead.")
    with transaction.atomic():
        events.record(policy, "deleted", actor=actor, is_public=False, before={"name": policy.name})
        policy.delete()
        _recompute_later(everything=True)


def update_escalation_rule(
    actor: User, rule: EscalationRule, *, levels: list[dict] | None = None, **changes: Any
) -> EscalationRule:
    require_admin(actor)
    _refuse_nulls(changes)
    allowed = {"name", "active", "urgent", "minutes", "metric"}
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid(f"Cannot change {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    for level in levels or []:
        for action in level.get("actions", []):
            check_escalation_action(action)
    with transaction.atomic():
        for key, value in changes.items():
            setattr(rule, key, value)
        rule.save()
        if levels is not None:
            # Levels keep their numbers, so what already fired does not fire again.
            rule.levels.exclude(level__in=range(1, len(levels) + 1)).delete()
            for number, level in enumerate(levels, start=1):
                EscalationLevel.objects.update_or_create(
                    rule=rule,
                    level=number,
                    defaults={
                        "delay_minutes": level.get("delay_minutes", 0),
                        "actions": level.get("actions", []),
                    },
                )
        events.record(
            rule,
            "updated",
            actor=actor,
            is_public=False,
            after={k: str(v) for k, v in changes.items()},
        )
    return rule


def delete_escalation_rule(actor: User, rule: EscalationRule) -> None:
    require_admin(actor)
    with transaction.atomic():
        events.record(rule, "deleted", actor=actor, is_public=False, before={"name": rule.name})
        rule.delete()


def update_schedule(
    actor: User, schedule: OnCallSchedule, *, participants: list[User] | None = None, **changes: Any
) -> OnCallSchedule:
    if not (actor.is_admin or schedule.team.lead_id == actor.pk):
        raise Forbidden("Only administrators and the team lead may change on-call.")
    _refuse_nulls(changes)
    allowed = {"name", "shift_hours", "ack_minutes", "rotation_start"}
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid(f"Cannot change {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    if participants is not None:
        if not participants:
            raise Invalid("A rotation needs at least one participant.", field="participants")
        for person in participants:
            if not person.is_agent:
                raise Invalid(f"{person.email} is not an agent.", field="participants")
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
    if not (actor.is_admin or schedule.team.lead_id == actor.pk):
        raise Forbidden("Only administrators and the team lead may delete on-call.")
    with transaction.atomic():
        events.record(
            schedule, "deleted", actor=actor, is_public=False, before={"name": schedule.name}
        )
        schedule.delete()
