"""Escalation: rules with levels, fired once per ticket and cycle by the worker's sweep.

Candidates come from one query per rule level; a level fires by inserting its
EscalationFiring row, whose unique key lets only one worker win. Actions go through the
desk's actions as the system actor, so they land on the timeline like any other change.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from sustain.accounts.actions import system_actor
from sustain.accounts.models import Role, Team, User
from sustain.core import businesstime, events
from sustain.core.errors import ActionError
from sustain.core.tenancy import can_see_organization, visible
from sustain.desk import actions as desk
from sustain.desk import notifications
from sustain.desk.models import OPEN_STATUSES, Ticket
from sustain.notifications import mailing
from sustain.sla import clocks, oncall, validation
from sustain.sla.config import current
from sustain.sla.models import (
    Clock,
    EscalationFiring,
    EscalationLevel,
    EscalationRule,
    OnCallSchedule,
    Page,
)

log = logging.getLogger(__name__)
Condition = EscalationRule.Condition
BATCH = 500


def _scoped(rule: EscalationRule, prefix: str = "") -> Q:
    q = Q()
    if rule.organization_id:
        q &= Q(**{f"{prefix}organization_id": rule.organization_id})
    if rule.priority:
        q &= Q(**{f"{prefix}priority": rule.priority})
    if rule.team_id:
        q &= Q(**{f"{prefix}team_id": rule.team_id})
    return q


def candidates(level: EscalationLevel, now: datetime) -> list[tuple[int, str]]:
    """(ticket id, cycle) pairs whose condition has held for the level's delay by `now`."""
    rule = level.rule
    ready = now - timedelta(minutes=level.delay_minutes)
    if rule.condition in (Condition.SLA_WARNING, Condition.SLA_BREACH):
        field = "warned_at" if rule.condition == Condition.SLA_WARNING else "breached_at"
        clock_rows = Clock.objects.filter(
            _scoped(rule, "ticket__"),
            **{f"{field}__isnull": False, f"{field}__lte": ready},
            met_at__isnull=True,
            ticket__status__in=OPEN_STATUSES,
        )
        if rule.metric:
            clock_rows = clock_rows.filter(metric=rule.metric)
        return [
            (ticket_id, f"clock:{clock_id}:{started.timestamp():.0f}")
            for ticket_id, clock_id, started in clock_rows.values_list(
                "ticket_id", "id", "started_at"
            )[:BATCH]
        ]
    tickets = Ticket.objects.filter(_scoped(rule), status__in=OPEN_STATUSES)
    silence = timedelta(minutes=rule.minutes)
    if rule.condition == Condition.UNASSIGNED:
        rows = tickets.filter(assignee__isnull=True, created_at__lte=ready - silence)
        return [(pk, "unassigned") for pk in rows.values_list("id", flat=True)[:BATCH]]
    if rule.condition == Condition.P1_OPENED:
        rows = tickets.filter(priority=1, created_at__gte=rule.created_at, created_at__lte=ready)
        return [(pk, "p1") for pk in rows.values_list("id", flat=True)[:BATCH]]
    last_update = Coalesce(
        Max(
            "comments__created_at",
            filter=Q(comments__is_public=True) & ~Q(comments__author__role=Role.CUSTOMER),
        ),
        "created_at",
        output_field=DateTimeField(),
    )
    rows = tickets.annotate(last_update=last_update).filter(last_update__lte=ready - silence)
    return [
        (pk, f"silence:{at.timestamp():.0f}")
        for pk, at in rows.values_list("id", "last_update")[:BATCH]
    ]


def _hold_until(rule: EscalationRule, ticket: Ticket, now: datetime) -> datetime | None:
    """Non-urgent notifications wait for the working hours of the ticket's SLA calendar."""
    if rule.urgent:
        return None
    policy = clocks.policy_for(ticket)
    if policy is None:
        return None
    start = businesstime.next_working(current().schedule(policy), now)
    return start if start > now else None


def _schedule_for(ticket: Ticket, slug: str | None = None) -> OnCallSchedule | None:
    if slug:
        return OnCallSchedule.objects.filter(slug=slug).first()
    if ticket.team_id:
        return OnCallSchedule.objects.filter(team_id=ticket.team_id).order_by("id").first()
    return None


def may_see(person: Any, ticket: Ticket | None) -> bool:
    """Whether a page or notification about `ticket` may name it to `person`."""
    if not isinstance(person, User) or not person.is_active:
        return False
    if ticket is None:
        return True
    if person.is_agent:  # no query for agents who serve everyone
        return can_see_organization(person, ticket.organization_id)
    return visible(Ticket.objects.filter(pk=ticket.pk), person).exists()


def _people(who: str, ticket: Ticket, now: datetime) -> list[User]:
    return [p for p in _recipients(who, ticket, now) if may_see(p, ticket)]


def _recipients(who: str, ticket: Ticket, now: datetime) -> list[User]:
    if who == "assignee":
        return [ticket.assignee] if ticket.assignee else []
    if who == "team_lead":
        return [ticket.team.lead] if ticket.team and ticket.team.lead else []
    if who == "managers":
        return list(
            User.objects.filter(role__in=[Role.MANAGER, Role.ADMIN], is_active=True).exclude(
                email__endswith="@sustain.invalid"
            )
        )
    if who == "on_call":
        schedule = _schedule_for(ticket)
        person = oncall.on_call(schedule, now)[0] if schedule else None
        return [person] if isinstance(person, User) else []
    raise ActionError(f"Unknown recipient '{who}'.")


def page(
    schedule: OnCallSchedule,
    ticket: Ticket | None,
    reason: str,
    now: datetime,
    user: User | None = None,
    attempt: int = 1,
) -> Page | None:
    """Page the person on call now (or `user`), through the outbox.

    Someone who may not see the ticket (an agent scoped to other organizations) is passed
    over for the next participant in rotation order who may: a page never reveals a ticket.
    """
    person = user or oncall.on_call(schedule, now)[0]
    if isinstance(person, User) and not may_see(person, ticket):
        log.warning("%s may not see the ticket of %s; paging the next who may", person, reason)
        person = oncall.first_able(schedule, person.pk, lambda p: may_see(p, ticket))
    if not isinstance(person, User):
        log.warning("nobody on call in %s to page for %s", schedule, reason)
        return None
    created = Page.objects.create(
        schedule=schedule,
        ticket=ticket,
        user=person,
        reason=reason,
        attempt=attempt,
        created_at=now,
        ack_due_at=now + timedelta(minutes=schedule.ack_minutes),
    )
    mailing.email(
        [person.email],
        "sla/mail/page",
        {"page": created, "ticket": ticket},
        dedupe_key=f"page:{created.pk}",
    )
    if ticket is not None:
        events.record(
            ticket,
            "paged",
            is_public=False,
            after={"user": person.name, "schedule": schedule.name, "attempt": attempt},
        )
    return created


def _run(
    action: dict[str, Any], rule: EscalationRule, ticket: Ticket, now: datetime, actor: User
) -> str:
    kind = action.get("do")
    if kind == "notify":
        people = _people(action.get("who", "assignee"), ticket, now)
        mailing.email(
            [p.email for p in people if p.is_active],
            "sla/mail/escalation",
            {"ticket": ticket, "rule": rule},
            dedupe_key=f"escalation:{rule.pk}:{ticket.pk}:{now.timestamp()}",
            not_before=_hold_until(rule, ticket, now),
            event="escalation",
        )
        return f"notified {', '.join(p.name for p in people) or 'nobody'}"
    if kind == "page":
        schedule = _schedule_for(ticket, action.get("schedule"))
        paged = page(schedule, ticket, f"{rule.name}: {ticket.key}", now) if schedule else None
        return f"paged {paged.user.name}" if paged else "nobody on call"
    if kind == "reassign":
        team = Team.objects.filter(slug=action.get("team")).first()
        if team is None:
            return f"no team {action.get('team')}"
        desk.assign(actor, ticket, team=team, assignee=None)
        return f"reassigned to {team.name}"
    if kind == "raise_priority":
        if ticket.priority > 1:
            desk.set_priority(actor, ticket, ticket.priority - 1, f"Escalation: {rule.name}")
        return f"priority P{ticket.priority}"
    if kind == "add_watchers":
        added = []
        for email in action.get("users", []):
            person = User.objects.filter(email__iexact=email, is_active=True).first()
            # Checked again here: the row may predate the check, or the person have changed
            # (made a customer, rescoped) since; they are passed over, not the whole action.
            problem = validation.watcher_problem(person, ticket.organization_id)
            if person is not None and problem is None:
                desk.watch(actor, ticket, person)
                added.append(person.name)
        return f"watchers {', '.join(added)}"
    return f"unknown action {kind}"


def fire(level: EscalationLevel, ticket_id: int, cycle: str, now: datetime, actor: User) -> bool:
    """Fire one level for one ticket and cycle, unless another worker already did."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                firing = EscalationFiring.objects.create(
                    level=level, ticket_id=ticket_id, cycle=cycle, fired_at=now
                )
        except IntegrityError:
            return False
        ticket = Ticket.objects.select_related(
            "team__lead", "assignee", "organization", "affected_ci"
        ).get(pk=ticket_id)
        done = []
        for action in level.actions:
            try:
                with transaction.atomic():
                    done.append(_run(action, level.rule, ticket, now, actor))
            except ActionError as exc:
                done.append(f"{action.get('do')} refused: {exc.message}")
        events.record(
            ticket,
            "escalated",
            is_public=False,
            after={"rule": level.rule.name, "level": level.level, "actions": done},
        )
        notifications.escalated(ticket, firing, level.rule, level.level, done)
    return True


def _usable(level: EscalationLevel) -> bool:
    """A level edited behind clean() (actions not a list of objects, a bad delay) is skipped."""
    try:
        validation.check_escalation_actions(level.actions, shape_only=True)
        validation.check_range(level.delay_minutes, 0, validation.MAX_ESCALATION_MINUTES, "delay")
        validation.check_range(level.rule.minutes, 0, validation.MAX_ESCALATION_MINUTES, "minutes")
    except ValidationError as exc:
        log.error("escalation %s skipped: %s", level, validation.reason(exc))
        return False
    return True


def escalate_due(now: datetime | None = None) -> int:
    """One pass over every active rule level; returns how many firings happened."""
    now = now or timezone.now()
    fired = 0
    actor = None
    levels = EscalationLevel.objects.filter(rule__active=True).select_related("rule")
    for level in levels:
        if not _usable(level):
            continue
        found = candidates(level, now)
        if not found:
            continue
        done = set(
            EscalationFiring.objects.filter(
                level=level, ticket_id__in=[t for t, _ in found]
            ).values_list("ticket_id", "cycle")
        )
        for ticket_id, cycle in found:
            if (ticket_id, cycle) in done:
                continue
            actor = actor or system_actor()
            fired += fire(level, ticket_id, cycle, now, actor)
    return fired


def escalate_pages(now: datetime | None = None) -> int:
    """Pass unacknowledged pages to the next participant, once each."""
    now = now or timezone.now()
    passed = 0
    due = Page.objects.filter(
        acknowledged_at__isnull=True, escalated_at__isnull=True, ack_due_at__lte=now
    )
    for page_id in list(due.values_list("id", flat=True)[:BATCH]):
        with transaction.atomic():
            if not Page.objects.filter(
                pk=page_id, acknowledged_at__isnull=True, escalated_at__isnull=True
            ).update(escalated_at=now):
                continue
            old = Page.objects.select_related("schedule", "ticket", "user").get(pk=page_id)
            following = oncall.next_after(old.schedule, old.user_id)
            if isinstance(following, User):
                page(
                    old.schedule,
                    old.ticket,
                    old.reason,
                    now,
                    user=following,
                    attempt=old.attempt + 1,
                )
                passed += 1
    return passed
