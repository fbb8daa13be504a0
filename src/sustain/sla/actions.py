"""Changes to calendars and policies; each edit recomputes the open tickets it governs.

Every row is checked with the model's full_clean() before anything is written, so the API,
the admin (whose saves come here too) and the forms refuse the same values, naming the field.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import date, time
from typing import Any

import holidays as holiday_data
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils import timezone

from sustain.accounts.models import Organization, Team, User
from sustain.core import events
from sustain.core.errors import Conflict, Forbidden, Invalid, refuse_unknown
from sustain.sla import validation
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
    RecomputeRun,
    Target,
)


def _clean(instance: models.Model, *, exclude: Iterable[str] = (), prefix: str = "") -> None:
    """The model's own validation (fields and clean()) as an Invalid naming the fields."""
    try:
        instance.full_clean(
            exclude=list(exclude), validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        errors = []
        for key, items in exc.error_dict.items():
            field = prefix.rstrip(".") or "body" if key == NON_FIELD_ERRORS else f"{prefix}{key}"
            for item in items:
                # A check may say where inside a JSON field it failed ("0.colour").
                path = (item.params or {}).get("path")
                errors.append(
                    {
                        "field": f"{field}.{path}" if path else field,
                        "message": " ".join(item.messages),
                    }
                )
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise Invalid(summary, errors=errors) from None


def require_sla_manager(actor: User) -> None:
    """Calendars and policies are set up by managers and administrators (agents read them)."""
    if not actor.is_manager:
        raise Forbidden("Only managers and administrators may change calendars and policies.")


def _parse_holidays(values: Iterable[Any] | None) -> dict[date, str]:
    """Dates ("YYYY-MM-DD", a date, or {"date": …, "name": …}) → {date: name}."""
    parsed: dict[date, str] = {}
    for item in values or []:
        value, name = item, ""
        if isinstance(item, dict):
            value, name = item.get("date"), str(item.get("name") or "")[:200]
        if isinstance(value, date):
            parsed[value] = name
            continue
        try:
            parsed[date.fromisoformat(value)] = name
        except (TypeError, ValueError):
            raise Invalid(f"'{value}' is not a date (YYYY-MM-DD).", field="holidays") from None
    return parsed


def _holiday_rows(calendar: Calendar, dates: dict[date, str]) -> list[Holiday]:
    return [Holiday(calendar=calendar, date=d, name=n) for d, n in sorted(dates.items())]


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
    require_sla_manager(actor)
    if not (name or "").strip():
        raise Invalid("A name is required.", field="name")
    calendar = Calendar(
        name=name.strip(),
        timezone=timezone_name,
        hours=hours if hours is not None else {},
        always=always,
        organization=organization,
    )
    _clean(calendar)
    dates = _parse_holidays(holidays)
    with transaction.atomic():
        if Calendar.objects.filter(name=name.strip()).exists():
            raise Conflict(f"A calendar named '{name}' exists.", field="name")
        calendar.save()
        Holiday.objects.bulk_create(_holiday_rows(calendar, dates))
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
    require_sla_manager(actor)
    _refuse_nulls(changes, frozenset({"organization"}))
    allowed = {"name", "timezone_name", "hours", "always", "holidays", "organization"}
    refuse_unknown(changes, allowed)
    stored = Calendar.objects.get(pk=calendar.pk)  # the admin hands over an edited instance
    zone = changes.get("timezone_name", calendar.timezone)
    hours = changes.get("hours", calendar.hours)
    always = changes.get("always", calendar.always)
    edited = copy.copy(stored)
    edited.name = (changes.get("name") or stored.name).strip()
    edited.timezone, edited.hours, edited.always = zone, hours, always
    if "organization" in changes:
        edited.organization = changes["organization"]
    _clean(edited)
    dates = _parse_holidays(changes["holidays"]) if "holidays" in changes else None
    with transaction.atomic():
        if Calendar.objects.filter(name=edited.name).exclude(pk=calendar.pk).exists():
            raise Conflict(f"A calendar named '{edited.name}' exists.", field="name")
        before = {"timezone": stored.timezone, "hours": stored.hours, "always": stored.always}
        for key in ("name", "timezone", "hours", "always", "organization_id"):
            setattr(calendar, key, getattr(edited, key))
        calendar.updated_at = timezone.now()
        calendar.save()
        if dates is not None:
            calendar.holidays.all().delete()
            Holiday.objects.bulk_create(_holiday_rows(calendar, dates))
        old, new = events.changes(before, {"timezone": zone, "hours": hours, "always": always})
        events.record(calendar, "updated", actor=actor, before=old, after=new, is_public=False)
        _recompute_later(f"Calendar {calendar.name} changed", calendar_id=calendar.pk)
    return calendar


def import_holidays(
    actor: User, calendar: Calendar, *, country: str, year: int, subdivision: str = ""
) -> int:
    """Add a country's (and region's) public holidays of one year from the `holidays` package."""
    require_sla_manager(actor)
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
        if new:
            _recompute_later(f"Holidays imported into {calendar.name}", calendar_id=calendar.pk)
    return len(new)


def _targets(values: list[dict]) -> list[tuple[int, str, int]]:
    checked: list[tuple[int, str, int]] = []
    for value in values:
        if not isinstance(value, dict):
            raise Invalid("Each target is {priority, metric, minutes}.", field="targets")
        priority, metric, minutes = value.get("priority"), value.get("metric"), value.get("minutes")
        if not isinstance(priority, int) or not isinstance(minutes, int):
            raise Invalid("priority and minutes are whole numbers.", field="targets")
        if metric not in Metric.values:
            raise Invalid(
                f"metric must be one of {', '.join(Metric.values)}.", field="targets.metric"
            )
        _clean(
            Target(priority=priority, metric=metric, minutes=minutes),
            exclude=["policy"],
            prefix="targets.",
        )
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


def create_policy(actor: User, **fields: Any) -> Policy:
    require_sla_manager(actor)
    refuse_unknown(fields, POLICY_FIELDS, "Unknown field {first}.")
    if not (fields.get("name") or "").strip():
        raise Invalid("A name is required.", field="name")
    if fields.get("calendar") is None:
        raise Invalid("A calendar is required.", field="calendar")
    targets = _targets(fields.pop("targets", []))
    fields.setdefault("pause_statuses", ["pending"])
    policy = Policy(**fields)
    _clean(policy)
    with transaction.atomic():
        if Policy.objects.filter(name=fields["name"]).exists():
            raise Conflict(f"A policy named '{fields['name']}' exists.", field="name")
        policy.save()
        Target.objects.bulk_create(
            [Target(policy=policy, priority=p, metric=m, minutes=n) for p, m, n in targets]
        )
        events.record(policy, "created", actor=actor, is_public=False, after={"name": policy.name})
        _recompute_later(f"Policy {policy.name} added", everything=True)
    return policy


def update_policy(actor: User, policy: Policy, **changes: Any) -> Policy:
    require_sla_manager(actor)
    _refuse_nulls(changes, frozenset({"organization", "priority", "product", "config_item"}))
    refuse_unknown(changes, POLICY_FIELDS, "Unknown field {first}.")
    targets = _targets(changes.pop("targets")) if "targets" in changes else None
    edited = copy.copy(Policy.objects.get(pk=policy.pk))
    for key, value in changes.items():
        setattr(edited, key, value)
    _clean(edited)
    with transaction.atomic():
        if (
            "name" in changes
            and Policy.objects.filter(name=edited.name).exclude(pk=policy.pk).exists()
        ):
            raise Conflict(f"A policy named '{edited.name}' exists.", field="name")
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
        _recompute_later(f"Policy {policy.name} changed", everything=True)
    return policy


def reorder_policies(actor: User, policies: list[Policy]) -> None:
    """Number `policies` 10, 20, 30 … in the order given (the first that matches applies)."""
    require_sla_manager(actor)
    if not policies or len({p.pk for p in policies}) != len(policies):
        raise Invalid("Name each policy once.", field="order")
    with transaction.atomic():
        for position, policy in enumerate(policies, start=1):
            Policy.objects.filter(pk=policy.pk).update(
                order=position * 10, updated_at=timezone.now()
            )
        events.record(
            policies[0],
            "reordered",
            actor=actor,
            is_public=False,
            after={"order": [p.name for p in policies]},
        )
        _recompute_later("Policies reordered", everything=True)


def _recompute_later(
    reason: str, *, calendar_id: int | None = None, everything: bool = False
) -> RecomputeRun | None:
    """Write the run with the change (so it cannot be lost), and hand it to the worker once
    the change is committed; the minute sweep takes it over if the task never comes. A
    calendar no policy uses governs no ticket: nothing to recompute."""
    from sustain.sla.tasks import recompute_open_tickets

    if calendar_id is not None and not Policy.objects.filter(calendar_id=calendar_id).exists():
        return None
    row = RecomputeRun.objects.create(
        reason=reason[:200], calendar_id=calendar_id, everything=everything
    )
    transaction.on_commit(lambda: recompute_open_tickets(run_id=row.pk))
    return row


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
        handover = _time_of_day(handover)
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
    _clean(schedule)
    _check_participants(team, participants)
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


def _time_of_day(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise Invalid(f"'{text}' is not a time (HH:MM).", field="handover") from None


def _check_participants(team: Team, participants: list[User]) -> None:
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
    _clean(override)
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


def require_manager(actor: User) -> None:
    """Escalation and on-call are set up by managers and administrators."""
    if not actor.is_manager:
        raise Forbidden("Only managers and administrators may do this.")


def create_escalation_rule(actor: User, *, levels: list[dict], **fields: Any) -> EscalationRule:
    """A rule and its levels; each level's actions are checked before anything is written."""
    require_manager(actor)
    if fields.get("condition") not in EscalationRule.Condition.values:
        raise Invalid(
            f"condition must be one of {', '.join(EscalationRule.Condition.values)}.",
            field="condition",
        )
    if not levels:
        raise Invalid("A rule needs at least one level.", field="levels")
    rule = EscalationRule(**fields)
    _clean(rule)
    rows = _levels(rule, levels)
    with transaction.atomic():
        if EscalationRule.objects.filter(name=fields.get("name")).exists():
            raise Conflict(f"A rule named '{fields.get('name')}' exists.", field="name")
        rule.save()
        for row in rows:
            row.rule = rule
        EscalationLevel.objects.bulk_create(rows)
        events.record(rule, "created", actor=actor, is_public=False, after={"name": rule.name})
    return rule


def _levels(rule: EscalationRule, levels: list[dict]) -> list[EscalationLevel]:
    """Level rows numbered from 1, each checked (delay, the actions' shape) before writing."""
    rows = []
    for number, level in enumerate(levels, start=1):
        if not isinstance(level, dict):
            raise Invalid("Each level is {delay_minutes, actions}.", field="levels")
        row = EscalationLevel(
            rule=rule,  # its scope decides who may be added as a watcher
            level=number,
            delay_minutes=level.get("delay_minutes", 0),
            actions=level.get("actions", []),
        )
        _clean(row, exclude=["rule"], prefix=f"levels.{number - 1}.")
        rows.append(row)
    return rows


def delete_calendar(actor: User, calendar: Calendar) -> None:
    require_sla_manager(actor)
    if calendar.policies.exists():
        raise Conflict(f"Policies use {calendar.name}; move them to another calendar first.")
    with transaction.atomic():
        events.record(
            calendar, "deleted", actor=actor, is_public=False, before={"name": calendar.name}
        )
        calendar.delete()


def delete_policy(actor: User, policy: Policy) -> None:
    """Only a policy no ticket was measured by can go; otherwise deactivate it (history stays)."""
    require_sla_manager(actor)
    if policy.clocks.exists():
        raise Conflict(f"Tickets were measured by {policy.name}; deactivate it instead.")
    with transaction.atomic():
        events.record(policy, "deleted", actor=actor, is_public=False, before={"name": policy.name})
        policy.delete()
        _recompute_later(f"Policy {policy.name} deleted", everything=True)


def update_escalation_rule(
    actor: User, rule: EscalationRule, *, levels: list[dict] | None = None, **changes: Any
) -> EscalationRule:
    require_manager(actor)
    _refuse_nulls(changes, frozenset({"organization", "priority", "team"}))
    allowed = {"name", "active", "urgent", "minutes", "metric", "condition"}
    refuse_unknown(
        changes, allowed | {"organization", "priority", "team"}, "Cannot change {first}."
    )
    edited = copy.copy(EscalationRule.objects.get(pk=rule.pk))
    for key, value in changes.items():
        setattr(edited, key, value)
    _clean(edited)
    # Watchers are checked against the rule's scope as edited.
    rows = _levels(edited, levels) if levels is not None else None
    with transaction.atomic():
        if (
            "name" in changes
            and EscalationRule.objects.filter(name=edited.name).exclude(pk=rule.pk).exists()
        ):
            raise Conflict(f"A rule named '{edited.name}' exists.", field="name")
        for key, value in changes.items():
            setattr(rule, key, value)
        rule.save()
        if rows is not None:
            # Levels keep their numbers, so what already fired does not fire again.
            rule.levels.exclude(level__in=range(1, len(rows) + 1)).delete()
            for row in rows:
                EscalationLevel.objects.update_or_create(
                    rule=rule,
                    level=row.level,
                    defaults={"delay_minutes": row.delay_minutes, "actions": row.actions},
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
    require_manager(actor)
    with transaction.atomic():
        events.record(rule, "deleted", actor=actor, is_public=False, before={"name": rule.name})
        rule.delete()


def update_schedule(
    actor: User, schedule: OnCallSchedule, *, participants: list[User] | None = None, **changes: Any
) -> OnCallSchedule:
    if not (actor.is_manager or schedule.team.lead_id == actor.pk):
        raise Forbidden("Only managers, administrators and the team lead may change on-call.")
    _refuse_nulls(changes)
    allowed = {"name", "shift_hours", "ack_minutes", "rotation_start", "handover", "team"}
    refuse_unknown(changes, allowed | {"timezone_name"}, "Cannot change {first}.")
    if "timezone_name" in changes:
        changes["timezone"] = changes.pop("timezone_name")
    if isinstance(changes.get("handover"), str):
        changes["handover"] = _time_of_day(changes["handover"])
    team = changes.get("team", schedule.team)
    if team.pk != schedule.team_id and not (actor.is_manager or team.lead_id == actor.pk):
        raise Forbidden("Only managers and that team's lead may give it this rotation.")
    edited = copy.copy(OnCallSchedule.objects.get(pk=schedule.pk))
    for key, value in changes.items():
        setattr(edited, key, value)
    _clean(edited)
    if participants is None and "team" in changes:
        participants = [p.user for p in schedule.participants.select_related("user")]
    if participants is not None:
        _check_participants(team, participants)
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
