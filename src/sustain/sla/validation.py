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

from django.core.exceptions import ValidationError

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
    if not isinstance(name, str) or not name:
        raise ValidationError({field: "A time zone name is required, e.g. Europe/Berlin."})
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


ACTIONS = {"notify", "page", "reassign", "raise_priority", "add_watchers"}
RECIPIENTS = {"assignee", "team_lead", "managers", "on_call"}


def check_escalation_actions(
    actions: Any, field: str = "actions", *, shape_only: bool = False
) -> None:
    """The shape of a level's actions, and (unless shape_only) that the teams and schedules
    they name exist."""
    from sustain.accounts.models import Team
    from sustain.sla.models import OnCallSchedule

    if not isinstance(actions, list) or not actions:
        raise ValidationError({field: "A list of at least one action."})
    for action in actions:
        if not isinstance(action, dict):
            raise ValidationError({field: 'Each action is an object, e.g. {"do": "notify"}.'})
        kind = action.get("do")
        if kind not in ACTIONS:
            raise ValidationError(
                {field: f"Each action's 'do' is one of {', '.join(sorted(ACTIONS))}."}
            )
        if kind == "notify" and action.get("who") not in RECIPIENTS:
            raise ValidationError(
                {field: f"notify 'who' is one of {', '.join(sorted(RECIPIENTS))}."}
            )
        if kind == "add_watchers":
            users = action.get("users")
            if not isinstance(users, list) or not all(isinstance(u, str) for u in users):
                raise ValidationError(
                    {field: "add_watchers 'users' is a list of e-mail addresses."}
                )
        if shape_only:
            continue
        if kind == "reassign":
            slug = action.get("team")
            if not isinstance(slug, str) or not Team.objects.filter(slug=slug).exists():
                raise ValidationError({field: f"No team '{slug}'."})
        if kind == "page" and action.get("schedule") is not None:
            slug = action["schedule"]
            if not isinstance(slug, str) or not OnCallSchedule.objects.filter(slug=slug).exists():
                raise ValidationError({field: f"No on-call schedule '{slug}'."})


def reason(exc: Exception) -> str:
    """One line for a log or a page: the fields and their messages."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{f}: {' '.join(m)}" for f, m in exc.message_dict.items())
        return " ".join(exc.messages)
    return f"{type(exc).__name__}: {exc}"


def gather(*checks: Any) -> None:
    """Run every check (a zero-argument callable) and raise all their field errors at once."""
    errors: dict[str, list[str]] = {}
    for check in checks:
        try:
            check()
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
