"""What every ticket action shares: reading permission, checking values, and saving a change
with its event, notifications and SLA clocks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from sustain.accounts.models import Organization, Team, User
from sustain.bugs.similar import index as similar_index
from sustain.core import events, tenancy
from sustain.core.errors import Forbidden, Invalid, NotFound
from sustain.core.locking import save_changed
from sustain.core.models import as_priority
from sustain.desk import notifications, workflow
from sustain.desk.models import OPEN_STATUSES, Level, Tag, Ticket
from sustain.sla import clocks as sla_clocks


def snapshot(ticket: Ticket) -> dict[str, Any]:
    """The fields an event shows, as readable values."""
    return {
        "title": ticket.title,
        "status": ticket.status,
        "priority": ticket.priority,
        "impact": ticket.impact,
        "urgency": ticket.urgency,
        "team": ticket.team.name if ticket.team else None,
        "assignee": ticket.assignee.name if ticket.assignee else None,
        "organization": ticket.organization.slug,
        "affected_ci": ticket.affected_ci.name if ticket.affected_ci else None,
        "parent": ticket.parent.key if ticket.parent else None,
        "description": ticket.description,
    }


# What snapshot() reads: fetched with the row when an action locks it (`locked(ticket, *RELATED)`,
# the first statement of every action's transaction).
RELATED = ("team", "assignee", "organization", "affected_ci", "parent")


def can_read(actor: User, ticket: Ticket) -> bool:
    return tenancy.visible(Ticket.objects.filter(pk=ticket.pk), actor).exists()


def check_can_read(actor: User, ticket: Ticket) -> None:
    if not can_read(actor, ticket):
        raise NotFound(f"No ticket {ticket.key}.")


def check_agent_on(actor: User, ticket: Ticket) -> None:
    check_can_read(actor, ticket)
    if not actor.is_agent:
        raise Forbidden("Only agents may do this.")


def as_level(value: Any, field: str) -> int:
    try:
        level = int(value)
    except (TypeError, ValueError):
        level = 0
    if level not in Level.values:
        raise Invalid(f"{field} must be 1 (high), 2 (medium) or 3 (low).", field=field)
    return level


def priority_over_matrix(impact: int, urgency: int, priority: Any, reason: str) -> tuple[int, str]:
    """The matrix's priority for `impact` × `urgency`, or the one chosen over it with its
    reason (refused without one)."""
    matrix = workflow.priority_for(impact, urgency)
    chosen = matrix if priority is None else as_priority(priority)
    if chosen == matrix:
        return matrix, ""
    if not (reason or "").strip():
        raise Invalid("Overriding the matrix's priority needs a reason.", field="priority_reason")
    return chosen, reason.strip()


def check_assignment(ticket_org: Organization, team: Team | None, assignee: User | None) -> None:
    if assignee is not None:
        if not assignee.is_agent or not assignee.is_active:
            raise Invalid(f"{assignee.email} is not an active agent.", field="assignee")
        if not tenancy.can_see_organization(assignee, ticket_org.pk):
            raise Invalid(f"{assignee.name} does not serve {ticket_org.name}.", field="assignee")
        if team is not None and not team.members.filter(pk=assignee.pk).exists():
            raise Invalid(f"{assignee.name} is not a member of {team.name}.", field="assignee")


def check_parent_owner(organization: Organization, parent: Ticket) -> None:
    """A major incident is the customer's own or the provider's, never another customer's:
    the child shows its parent's key to the child's customer (fields, list rows, events)."""
    if parent.organization_id != organization.pk and not parent.organization.is_provider:
        raise Invalid(
            f"{parent.key} belongs to another customer; a major incident is the customer's "
            "own or the provider's.",
            field="parent",
        )


def tags_named(names: Iterable[str]) -> list[Tag]:
    cleaned = sorted({n.strip().lower() for n in names if n and n.strip()})
    for name in cleaned:
        if len(name) > 50:
            raise Invalid(f"Tag '{name[:20]}…' is longer than 50 characters.", field="tags")
    existing = {t.name: t for t in Tag.objects.filter(name__in=cleaned)}
    return [existing.get(n) or Tag.objects.get_or_create(name=n)[0] for n in cleaned]


def save_change(
    ticket: Ticket,
    actor: User,
    verb: str,
    before: dict,
    *,
    is_public: bool = True,
    quiet: bool = False,
    reason: str = "",
) -> None:
    """Save the fields the action changed on the row it locked, record the change on the
    timeline, move the clocks, tell who needs to know (`quiet`: the action tells them itself)."""
    ticket.updated_at = timezone.now()
    save_changed(ticket, "updated_at")
    old, new = events.changes(before, snapshot(ticket))
    if new.keys() & {"title", "description", "status"}:
        similar_index.refresh(ticket, was_open=before["status"] in OPEN_STATUSES)
    if new:
        event = events.record(ticket, verb, actor=actor, before=old, after=new, is_public=is_public)
        notifications.ticket_changed(ticket, actor, old, new, event, quiet=quiet, reason=reason)
    follow_clocks(ticket, old, new)


def follow_clocks(ticket: Ticket, old: dict, new: dict) -> None:
    """Keep the SLA clocks in step with what just changed on the ticket."""
    if "priority" in new or "organization" in new or "affected_ci" in new:
        sla_clocks.recompute(ticket, ticket.updated_at)
    elif "status" in new:
        sla_clocks.status_changed(ticket, old["status"], new["status"], ticket.updated_at)
