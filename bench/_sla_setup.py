"""Shared set-up of the SLA benchmarks: Django, an admin, an office calendar and a policy."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sustain.settings")
django.setup()

from sustain.accounts.actions import system_actor  # noqa: E402
from sustain.sla import actions  # noqa: E402
from sustain.sla.models import Calendar, Policy  # noqa: E402

WEEK = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
TARGETS = [
    {"priority": p, "metric": m, "minutes": minutes * p}
    for p in (1, 2, 3, 4)
    for m, minutes in (("first_response", 30), ("next_update", 120), ("resolution", 480))
]


def others_off() -> list[Policy]:
    """Deactivate every other active policy (the demo world brings its own), so that only
    "Bench" decides whether a ticket has clocks; returns them for `back_on`."""
    admin = system_actor()
    others = list(Policy.objects.filter(active=True).exclude(name="Bench"))
    for policy in others:
        actions.update_policy(admin, policy, active=False)
    return others


def back_on(policies: list[Policy]) -> None:
    admin = system_actor()
    for policy in policies:
        actions.update_policy(admin, policy, active=True)


def ensure_policy(active: bool = True) -> Policy:
    """The benchmark's policy ("Bench"), active or not."""
    admin = system_actor()
    calendar = Calendar.objects.filter(name="Bench office").first() or actions.create_calendar(
        admin,
        name="Bench office",
        timezone_name="Europe/Berlin",
        hours=WEEK,
        holidays=["2026-12-24"],
    )
    policy = Policy.objects.filter(name="Bench").first()
    if policy is None:
        policy = actions.create_policy(admin, name="Bench", calendar=calendar, targets=TARGETS)
    if policy.active != active:
        actions.update_policy(admin, policy, active=active)
    return policy
