"""The demo's service levels: calendars, policies, escalation rules, on-call and a webhook.

Set up through the SLA and hooks apps' actions, as a manager would in the product, before
the first ticket of the demo's history is opened, so every ticket gets its clocks from the
start and the sweep warns, breaches and escalates them as the months go by.

Acme has a premium contract measured around the clock (its clocks are in the same state
whatever the hour the demo is loaded); Globex and Initech are measured in Berlin office
hours, with the German public holidays.
"""

from __future__ import annotations

from datetime import date, datetime

from sustain.accounts.models import Organization, Team, User
from sustain.core import outbound
from sustain.hooks import actions as hooks
from sustain.hooks.models import EventType, Subscription
from sustain.sla import actions as sla
from sustain.sla.models import OnCallSchedule, Policy

OFFICE_WEEK = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
ON_CALL = "platform-on-call"
# (priority, metric, business minutes)
PREMIUM = [
    (1, "first_response", 15),
    (1, "next_update", 60),
    (1, "resolution", 240),
    (2, "first_response", 30),
    (2, "resolution", 480),
    (3, "first_response", 60),
    (3, "resolution", 1440),
    (4, "first_response", 240),
    (4, "resolution", 2880),
]
STANDARD = [
    (1, "first_response", 60),
    (1, "resolution", 480),
    (2, "first_response", 120),
    (2, "resolution", 960),
    (3, "first_response", 240),
    (3, "resolution", 2400),
    (4, "first_response", 480),
    (4, "resolution", 4800),
]
HOOK_URL = "https://hooks.acme.example/sustain"  # a reserved name: it never resolves


def _targets(rows: list[tuple[int, str, int]]) -> list[dict]:
    return [{"priority": p, "metric": m, "minutes": n} for p, m, n in rows]


def service_levels(admin: User, acme: Organization, years: list[int]) -> list[Policy]:
    """Two calendars (office hours with holidays, 24×7) and the two policies using them."""
    office = sla.create_calendar(
        admin, name="Office hours (Berlin)", timezone_name="Europe/Berlin", hours=OFFICE_WEEK
    )
    for year in years:
        sla.import_holidays(admin, office, country="DE", year=year, subdivision="BE")
    always = sla.create_calendar(admin, name="Around the clock", always=True)
    return [
        sla.create_policy(
            admin,
            name="Acme premium (24×7)",
            order=10,
            calendar=always,
            organization=acme,
            warn_percent=75,
            pause_statuses=["pending"],
            targets=_targets(PREMIUM),
        ),
        sla.create_policy(
            admin,
            name="Standard (office hours)",
            order=100,
            calendar=office,
            warn_percent=75,
            pause_statuses=["pending"],
            targets=_targets(STANDARD),
        ),
    ]


def on_call(admin: User, team: Team, people: list[User], start: date) -> OnCallSchedule:
    """Platform's weekly rotation, handed over on Monday mornings in Berlin."""
    return sla.create_schedule(
        admin,
        team=team,
        name="Platform on call",
        slug=ON_CALL,
        participants=people,
        rotation_start=start,
        timezone_name="Europe/Berlin",
        shift_hours=24 * 7,
        handover="09:00",
        ack_minutes=30,
    )


def cover(lead: User, schedule: OnCallSchedule, user: User, start: datetime, end: datetime) -> None:
    """Someone takes the pager for a while (a dentist's appointment, a long weekend)."""
    sla.add_override(lead, schedule, user=user, start=start, end=end)


def escalation_rules(admin: User) -> None:
    """A P1 not answered in time goes to the managers, then pages whoever is on call; a
    resolution at risk reminds the assignee; a ticket nobody took goes to the service desk."""
    sla.create_escalation_rule(
        admin,
        name="P1 not answered: managers, then on call",
        condition="sla_breach",
        metric="first_response",
        priority=1,
        urgent=True,
        levels=[
            {"delay_minutes": 0, "actions": [{"do": "notify", "who": "managers"}]},
            {"delay_minutes": 5, "actions": [{"do": "page", "schedule": ON_CALL}]},
        ],
    )
    sla.create_escalation_rule(
        admin,
        name="Resolution at risk: remind the assignee",
        condition="sla_warning",
        metric="resolution",
        levels=[{"delay_minutes": 0, "actions": [{"do": "notify", "who": "assignee"}]}],
    )
    sla.create_escalation_rule(
        admin,
        name="Nobody took it for 2 hours: service desk",
        condition="unassigned",
        minutes=120,
        levels=[
            {
                "delay_minutes": 0,
                "actions": [
                    {"do": "reassign", "team": "service-desk"},
                    {"do": "notify", "who": "team_lead"},
                ],
            }
        ],
    )


def webhook(agent: User, acme: Organization) -> Subscription:
    """Acme's operations bridge hears of its tickets; its receiver is down, as the log shows."""
    subscription, _ = hooks.create_subscription(
        agent,
        name="Acme operations bridge",
        url=HOOK_URL,
        organization=acme,
        events=[
            EventType.TICKET_CREATED,
            EventType.TICKET_STATUS_CHANGED,
            EventType.SLA_BREACHED,
            EventType.TICKET_ESCALATED,
        ],
    )
    return subscription


def _unresolvable(host: str, port: int) -> list[str]:
    raise outbound.OutboundError(outbound.Kind.NOT_RESOLVED)


def deliver_webhooks(now: datetime) -> int:
    """The outbox worker's delivery of the webhooks due by `now`. The demo's receiver name is
    reserved and never resolves: it is answered so here, without asking the DNS."""
    from sustain.core import outbox

    with outbound.using_resolver(_unresolvable):
        return outbox.deliver_due(now=now, kinds=["webhook"])
