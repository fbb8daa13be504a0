"""Checks for SLA configuration values, shared by the models' clean() and the compile.

Every value that the compile or the clock arithmetic reads is checked here, with the field
it belongs to, so the admin, the API and the forms refuse the same things with the same
words, and the compile can tell a row written behind their back (an old row, a hand edit)
and skip it instead of failing every ticket creation.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from sustain.core import timezones
from sustain.core.businesstime import WEEKDAYS, Schedule, ScheduleError, parse_hours

# "HH:MM" (seconds allowed) from 00:00 up to 24:00; no offsets, no "0900", no "T09".
TIME_OF_DAY = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d)?$|^24:00(?::00)?$")
MAX_TARGET_MINUTES = 10_000_000  # about 19 years, the API's bound
MAX_ESCALATION_MINUTES = 60 * 24 * 30
MAX_SHIFT_HOURS = 24 * 366
MAX_ACK_MINUTES = 24 * 60
PAUSABLE_STATUSES = frozenset({"new", "open", "pending"})
PRIORITIES = (1, 2, 3, 4)


def check_timezone(name: Any, field: str = "timezone") -> None:
    """Only IANA names (see core.timezones: not "localtime", the host's zone)."""
    if not isinstance(name, str) or not name:
        raise ValidationError({field: "A time zone name is required, e.g. Europe/Berlin."})
    if not timezones.is_known(name):
        raise ValidationError({field: f"Unknown time zone '{name}'."})
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError({field: f"Unknown time zone '{name}'."}) from None


def check_hours(hours: Any, always: bool, field: str = "hours") -> None:
    """{"mon": [["09:00", "17:00"]], …}: weekdays to [start, end] pairs, no overlaps."""
    if not isinstance(hours, dict):
        raise ValidationError(
            {field: 'Hours are an object: {"mon": [["09:00", "17:00"]], …} ({} for 24×7).'}
        )
    for day, intervals in hours.items():
        if str(day).strip().lower()[:3] not in WEEKDAYS:
            raise ValidationError({field: f"Unknown weekday '{day}'."})
        if not isinstance(intervals, list):
            raise ValidationError({field: f"{day}: a list of [start, end] pairs."})
        for pair in intervals:
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValidationError({field: f"{day}: each interval is [start, end]."})
            for value in pair:
                if not isinstance(value, str) or not TIME_OF_DAY.match(value):
                    raise ValidationError(
                        {field: f"{day}: '{value}' is not a time from 00:00 to 24:00 (HH:MM)."}
                    )
    try:
        Schedule("UTC", parse_hours(hours), always=always)
    except ScheduleError as exc:
        raise ValidationError({field: str(exc)}) from None


def check_pause_statuses(statuses: Any, field: str = "pause_statuses") -> None:
    if not isinstance(statuses, list) or not all(isinstance(s, str) for s in statuses):
        raise ValidationError({field: 'A list of statuses, e.g. ["pending"].'})
    if not set(statuses) <= PAUSABLE_STATUSES:
        raise ValidationError({field: "Only new, open and pending can pause a clock."})


def check_range(value: Any, low: int, high: int, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError({field: f"{field} must be a whole number from {low} to {high}."})


def check_priority(value: Any, field: str = "priority", *, optional: bool = True) -> None:
    if value is None and optional:
        return
    if value not in PRIORITIES:
        raise ValidationError({field: f"{field} must be 1, 2, 3 or 4."})


# Each action kind and the keys it may carry (besides "do"), required or optional. A key not
# listed is refused: a stored typo ("colour", "user") would otherwise be silently ignored.
ACTION_KEYS: dict[str, dict[str, bool]] = {
    "notify": {"who": True},
    "page": {"schedule": False},
    "reassign": {"team": True},
    "raise_priority": {},
    "add_watchers": {"users": True},
}
ACTIONS = set(ACTION_KEYS)
RECIPIENTS = {"assignee", "team_lead", "managers", "on_call"}
MAX_WATCHERS = 50


def _action_error(field: str, path: str, message: str) -> ValidationError:
    """An error on `field` whose params carry the path inside it ("0.colour"), so the API can
    name `levels.0.actions.0.colour` while a form still files it under its own field."""
    return ValidationError(
        {field: ValidationError(message.replace("%", "%%"), params={"path": path})}
    )


def watcher_problem(person: Any, organization_id: int | None) -> str | None:
    """Why `person` may not be made a watcher by an escalation, or None if they may.

    Only active agents (not customers: a watcher gets internal notes) who serve the rule's
    organization; an agent scoped elsewhere would learn of tickets they may not read.
    """
    from sustain.core.tenancy import can_see_organization

    if person is None or not person.is_active:
        return "no active user"
    if person.is_customer:
        return "a customer, not an agent"
    if organization_id is not None and not can_see_organization(person, organization_id):
        return "an agent who does not serve the rule's organization"
    if organization_id is None and not can_see_organization(person, None):
        # A rule for every organization: only agents who serve every organization.
        return "an agent scoped to some organizations, on a rule for all of them"
    return None


def check_escalation_actions(
    actions: Any,
    field: str = "actions",
    *,
    shape_only: bool = False,
    organization_id: int | None = None,
) -> None:
    """The shape of a level's actions (only the keys ACTION_KEYS allows), and (unless
    shape_only) that the teams, schedules and watchers they name exist and may be used."""
    if not isinstance(actions, list) or not actions:
        raise ValidationError({field: "A list of at least one action."})
    for index, action in enumerate(actions):
        at = str(index)
        kind = _check_keys(action, field, at)
        _check_values(action, kind, field, at)
        if not shape_only:
            _check_references(action, kind, field, at, organization_id)


def _check_keys(action: Any, field: str, at: str) -> str:
    """The action's kind, once its keys are those the kind takes."""
    if not isinstance(action, dict):
        raise _action_error(field, at, 'Each action is an object, e.g. {"do": "notify"}.')
    kind = action.get("do")
    if not isinstance(kind, str) or kind not in ACTION_KEYS:
        raise _action_error(field, f"{at}.do", f"'do' is one of {', '.join(sorted(ACTION_KEYS))}.")
    keys = ACTION_KEYS[kind]
    for key in action:
        if key != "do" and key not in keys:
            allowed = ", ".join(sorted(keys)) or "no other key"
            raise _action_error(
                field, f"{at}.{key}", f"Unknown key '{key}' for {kind} (allowed: {allowed})."
            )
    for key, required in keys.items():
        if required and key not in action:
            raise _action_error(field, f"{at}.{key}", f"{kind} needs '{key}'.")
    return kind


def _check_values(action: dict[str, Any], kind: str, field: str, at: str) -> None:
    if kind == "notify" and action["who"] not in RECIPIENTS:
        raise _action_error(
            field, f"{at}.who", f"notify 'who' is one of {', '.join(sorted(RECIPIENTS))}."
        )
    if kind == "reassign" and not isinstance(action["team"], str):
        raise _action_error(field, f"{at}.team", "reassign 'team' is a team's slug.")
    schedule = action.get("schedule")
    if kind == "page" and schedule is not None and not isinstance(schedule, str):
        raise _action_error(field, f"{at}.schedule", "page 'schedule' is a schedule's slug.")
    if kind == "add_watchers":
        users = action["users"]
        if (
            not isinstance(users, list)
            or not users
            or len(users) > MAX_WATCHERS
            or not all(isinstance(u, str) and u for u in users)
        ):
            raise _action_error(
                field,
                f"{at}.users",
                f"add_watchers 'users' is a list of 1 to {MAX_WATCHERS} e-mail addresses.",
            )


def _check_references(
    action: dict[str, Any], kind: str, field: str, at: str, organization_id: int | None
) -> None:
    """The team, schedule and watchers an action names exist and may be used."""
    from sustain.accounts.models import Team, User
    from sustain.sla.models import OnCallSchedule

    schedule = action.get("schedule")
    if kind == "reassign" and not Team.objects.filter(slug=action["team"]).exists():
        raise _action_error(field, f"{at}.team", f"No team '{action['team']}'.")
    if (
        kind == "page"
        and schedule is not None
        and not OnCallSchedule.objects.filter(slug=schedule).exists()
    ):
        raise _action_error(field, f"{at}.schedule", f"No on-call schedule '{schedule}'.")
    if kind == "add_watchers":
        for number, email in enumerate(action["users"]):
            person = User.objects.filter(email__iexact=email).first()
            problem = watcher_problem(person, organization_id)
            if problem:
                raise _action_error(
                    field, f"{at}.users.{number}", f"'{email}' cannot watch: {problem}."
                )


def reason(exc: Exception) -> str:
    """One line for a log or a page: the fields and their messages."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{f}: {' '.join(m)}" for f, m in exc.message_dict.items())
        return " ".join(exc.messages)
    return f"{type(exc).__name__}: {exc}"


def gather(*checks: Any) -> None:
    """Run every check (a zero-argument callable) and raise all their field errors at once."""
    errors: dict[str, list[ValidationError]] = {}
    for check in checks:
        try:
            check()
        except ValidationError as exc:
            found = getattr(exc, "error_dict", None) or {NON_FIELD_ERRORS: exc.error_list}
            for key, items in found.items():  # the errors themselves, params (paths) kept
                errors.setdefault(key, []).extend(items)
    if errors:
        raise ValidationError(errors)
