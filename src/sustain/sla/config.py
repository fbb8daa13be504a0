"""The SLA configuration (policies, targets, calendars) compiled once per change, per process.

Every clock operation needs the policies in order, their targets and the calendars'
schedules. Reading them costs several queries; a fingerprint of the four small tables costs
one, so each process keeps the compiled configuration until the fingerprint changes
(edits through actions, the API or the admin all change it).

The compile never fails: a row that cannot be used (written behind validation's back by an
old version, a migration or a hand edit) is skipped with an error in the log and listed in
`Config.skipped` for the SLA page; a policy on a skipped calendar is skipped too, so tickets
fall to the next policy that matches, or to none. The result is cached like any other, so a
bad row costs one compile per change, not one per ticket.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from sustain.core.businesstime import Schedule, ScheduleError
from sustain.sla import validation
from sustain.sla.models import Calendar, Holiday, Metric, Policy, Target

log = logging.getLogger(__name__)
# For clocks already running under a calendar that is now skipped: count every minute
# (they were promised; pausing them silently would hide a breach).
FALLBACK = Schedule("UTC", always=True)

# Changes through the admin do not go through actions, so the fingerprint looks at content
# (activity, order, hours, zone) as well as at timestamps and counts.
FINGERPRINT_SQL = """
SELECT (SELECT MAX(updated_at) FROM sla_policy), (SELECT COUNT(*) FROM sla_policy),
       (SELECT SUM(id * (CASE WHEN active THEN 2 ELSE 1 END) + "order" + warn_percent
               + calendar_id + LENGTH(CAST(pause_statuses AS TEXT)) + LENGTH(kind)
               + COALESCE(organization_id, 0) * 3 + COALESCE(priority, 0) * 5
               + COALESCE(product_id, 0) * 7 + COALESCE(config_item_id, 0) * 11) FROM sla_policy),
       (SELECT MAX(updated_at) FROM sla_calendar), (SELECT COUNT(*) FROM sla_calendar),
       (SELECT SUM(id + LENGTH(CAST(hours AS TEXT)) + LENGTH(timezone)
               + (CASE WHEN always THEN 1 ELSE 0 END)) FROM sla_calendar),
       (SELECT COUNT(*) FROM sla_target), (SELECT SUM(minutes * 7 + priority) FROM sla_target),
       (SELECT MAX(id) FROM sla_target), (SELECT COUNT(*) FROM sla_holiday),
       (SELECT MAX(id) FROM sla_holiday)
"""


@dataclass(frozen=True)
class Skipped:
    """A configuration row the compile could not use, and why."""

    kind: str  # calendar, policy, target
    pk: int
    name: str
    reason: str

    def __str__(self) -> str:
        return f"skipped: {self.kind} {self.name} (#{self.pk}): {self.reason}"


@dataclass
class Config:
    policies: list[Policy] = field(default_factory=list)
    # policy id → {(priority, metric): seconds}
    targets: dict[int, dict[tuple[int, str], int]] = field(default_factory=dict)
    schedules: dict[int, Schedule] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)

    def targets_for(self, policy: Policy, priority: int) -> dict[str, int]:
        return {m: s for (p, m), s in self.targets.get(policy.pk, {}).items() if p == priority}

    def schedule(self, policy: Policy) -> Schedule:
        return self.schedule_of(policy.calendar_id)

    def schedule_of(self, calendar_id: int) -> Schedule:
        """The calendar's schedule; 24×7 for a calendar that was skipped (see FALLBACK)."""
        return self.schedules.get(calendar_id, FALLBACK)

    def calendar_schedule(self, calendar: Calendar) -> Schedule:
        """The compiled schedule of `calendar`, or ScheduleError saying why it was skipped."""
        found = self.schedules.get(calendar.pk)
        if found is None:
            why = next(
                (s.reason for s in self.skipped if s.kind == "calendar" and s.pk == calendar.pk),
                "it is new",
            )
            raise ScheduleError(f"{calendar.name} cannot be used until it is corrected: {why}")
        return found

    def skip(self, kind: str, pk: int, name: str, exc: Exception | str) -> None:
        entry = Skipped(kind, pk, name, exc if isinstance(exc, str) else validation.reason(exc))
        self.skipped.append(entry)
        log.error("SLA configuration %s", entry)


_local = threading.local()


def _fingerprint() -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(FINGERPRINT_SQL)
        return (connection.alias, *cursor.fetchone())


def _compile() -> Config:
    config = Config()
    holidays: dict[int, set] = {}
    for calendar_id, day in Holiday.objects.values_list("calendar_id", "date"):
        holidays.setdefault(calendar_id, set()).add(day)
    for calendar in Calendar.objects.all():
        try:
            calendar.clean()
            config.schedules[calendar.pk] = calendar.schedule_with(
                frozenset(holidays.get(calendar.pk, ()))
            )
        except Exception as exc:  # any bad row is skipped, never fatal for intake
            config.skip("calendar", calendar.pk, calendar.name, exc)
    for policy in Policy.objects.filter(active=True).order_by("order", "id"):
        if policy.calendar_id not in config.schedules:
            config.skip("policy", policy.pk, policy.name, "its calendar is skipped")
            continue
        try:
            validation.check_range(policy.warn_percent, 1, 99, "warn_percent")
            validation.check_pause_statuses(policy.pause_statuses)
        except Exception as exc:
            config.skip("policy", policy.pk, policy.name, exc)
            continue
        config.policies.append(policy)
    for target in Target.objects.all():
        if target.metric not in Metric.values or target.priority not in validation.PRIORITIES:
            config.skip("target", target.pk, str(target), "unknown metric or priority")
            continue
        if not 0 < target.minutes <= validation.MAX_TARGET_MINUTES:
            config.skip("target", target.pk, str(target), "minutes out of range")
            continue
        config.targets.setdefault(target.policy_id, {})[(target.priority, target.metric)] = (
            target.minutes * 60
        )
    return config


def current() -> Config:
    """The configuration as it is in the database now (one query when nothing changed)."""
    stamp = _fingerprint()
    cached = getattr(_local, "cached", None)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    config = _compile()
    _local.cached = (stamp, config)
    return config
