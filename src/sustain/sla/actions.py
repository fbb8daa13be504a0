"""Changes to calendars and policies; each edit recomputes the open tickets it governs.

Every row is checked with the model's fullclean_model() before anything is written, so the API,
the admin (whose saves come here too) and the forms refuse the same values, naming the field.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import date
from typing import Any

import holidays as holiday_data
from django.db import transaction
from django.utils import timezone

from sustain.accounts.models import Organization, User
from sustain.core import events
from sustain.core.errors import Conflict, Forbidden, Invalid, refuse_unknown
from sustain.sla.checks import clean_model, refuse_nulls
from sustain.sla.models import (
    Calendar,
    EscalationLevel,
    EscalationRule,
    Holiday,
    Metric,
    Policy,
    RecomputeRun,
    Target,
)
from sustain.sla.rotations import (
    acknowledge,
    add_override,
    create_schedule,
    delete_schedule,
    remove_override,
    update_schedule,
)


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
    clean_model(calendar)
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


def update_calendar(actor: User, calendar: Calendar, **changes: Any) -> Calendar:
    """Edit hours, zone or holidays; open tickets under it are recomputed in the background."""
    require_sla_manager(actor)
    refuse_nulls(changes, frozenset({"organization"}))
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
    clean_model(edited)
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
        clean_model(
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
    clean_model(policy)
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
    refuse_nulls(changes, frozenset({"organization", "priority", "product", "config_item"}))
    refuse_unknown(changes, POLICY_FIELDS, "Unknown field {first}.")
    targets = _targets(changes.pop("targets")) if "targets" in changes else None
    edited = copy.copy(Policy.objects.get(pk=policy.pk))
    for key, value in changes.items():
        setattr(edited, key, value)
    clean_model(edited)
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
    clean_model(rule)
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
        clean_model(row, exclude=["rule"], prefix=f"levels.{number - 1}.")
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
    refuse_nulls(changes, frozenset({"organization", "priority", "team"}))
    allowed = {"name", "active", "urgent", "minutes", "metric", "condition"}
    refuse_unknown(
        changes, allowed | {"organization", "priority", "team"}, "Cannot change {first}."
    )
    edited = copy.copy(EscalationRule.objects.get(pk=rule.pk))
    for key, value in changes.items():
        setattr(edited, key, value)
    clean_model(edited)
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


__all__ = [
    "acknowledge",
    "add_override",
    "create_calendar",
    "create_escalation_rule",
    "create_policy",
    "create_schedule",
    "delete_calendar",
    "delete_escalation_rule",
    "delete_policy",
    "delete_schedule",
    "import_holidays",
    "remove_override",
    "reorder_policies",
    "require_manager",
    "require_sla_manager",
    "update_calendar",
    "update_escalation_rule",
    "update_policy",
    "update_schedule",
]
