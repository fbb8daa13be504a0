"""The SLA configuration (policies, targets, calendars) compiled once per change, per process.

Every clock operation needs the policies in order, their targets and the calendars'
schedules. Reading them costs several queries; a fingerprint of the four small tables costs
one, so each process keeps the compiled configuration until the fingerprint changes
(edits through actions, the API or the admin all change it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from sustain.core.businesstime import Schedule
from sustain.sla.models import Calendar, Holiday, Policy, Target

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


@dataclass
class Config:
    policies: list[Policy] = field(default_factory=list)
    # policy id → {(priority, metric): seconds}
    targets: dict[int, dict[tuple[int, str], int]] = field(default_factory=dict)
    schedules: dict[int, Schedule] = field(default_factory=dict)

    def targets_for(self, policy: Policy, priority: int) -> dict[str, int]:
        return {m: s for (p, m), s in self.targets.get(policy.pk, {}).items() if p == priority}

    def schedule(self, policy: Policy) -> Schedule:
        return self.schedules[policy.calendar_id]


_local = threading.local()


def _fingerprint() -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(FINGERPRINT_SQL)
        return (connection.alias, *cursor.fetchone())


def _compile() -> Config:
    config = Config(policies=list(Policy.objects.filter(active=True).order_by("order", "id")))
    for target in Target.objects.all():
        config.targets.setdefault(target.policy_id, {})[(target.priority, target.metric)] = (
            target.minutes * 60
        )
    holidays: dict[int, set] = {}
    for calendar_id, day in Holiday.objects.values_list("calendar_id", "date"):
        holidays.setdefault(calendar_id, set()).add(day)
    for calendar in Calendar.objects.all():
        config.schedules[calendar.pk] = calendar.schedule_with(
            frozenset(holidays.get(calendar.pk, ()))
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
