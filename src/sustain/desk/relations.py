"""Tickets in relation to others and to people: major incidents, links, merges, watchers."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, IntegerField, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from sustain.accounts.models import User
from sustain.core import events, tenancy
from sustain.core.errors import Conflict, Forbidden, Invalid
from sustain.core.locking import locked, save_changed
from sustain.desk.common import (
    RELATED,
    check_agent_on,
    check_can_read,
    check_parent_owner,
    save_change,
    snapshot,
)
from sustain.desk.models import Status, Ticket, TicketLink


def set_parent(actor: User, ticket: Ticket, parent: Ticket | None) -> Ticket:
    """Attach an incident to a major incident (or detach it with None)."""
    check_agent_on(actor, ticket)
    if parent is not None:
        check_can_read(actor, parent)
        if parent.pk == ticket.pk:
            raise Invalid("A ticket cannot be its own parent.", field="parent")
        check_parent_owner(ticket.organization, parent)
    with transaction.atomic():
        # Both rows locked (in key order): A attached under B while B goes under C at the same
        # moment would make a chain of three otherwise.
        for row in sorted([ticket] if parent is None else [ticket, parent], key=lambda t: t.pk):
            locked(row, *RELATED)
        if parent is not None:
            if parent.parent is not None:
                raise Invalid(
                    f"{parent.key} is itself attached to {parent.parent.key}.", field="parent"
                )
            if ticket.children.exists():
                raise Invalid(
                    f"{ticket.key} has children; it cannot have a parent.", field="parent"
                )
        before = snapshot(ticket)
        ticket.parent = parent
        save_change(ticket, actor, "parent_changed", before)
    return ticket


def link(
    actor: User, ticket: Ticket, other: Ticket, kind: str = TicketLink.Kind.RELATED
) -> TicketLink:
    check_agent_on(actor, ticket)
    check_can_read(actor, other)
    if kind not in TicketLink.Kind.values:
        raise Invalid("kind must be related or duplicate.", field="kind")
    if other.pk == ticket.pk:
        raise Invalid("A ticket cannot be linked to itself.", field="target")
    if kind == TicketLink.Kind.DUPLICATE:
        return merge(actor, ticket, into=other)
    if other.organization_id != ticket.organization_id:
        # Both timelines and link lists name the other key; another customer's key is theirs.
        raise Invalid(
            "Only tickets of the same organization can be linked; attach tickets of several "
            "customers to a major incident instead.",
            field="target",
        )
    with transaction.atomic():
        locked(ticket)  # two identical links at once: the second sees the first
        if TicketLink.objects.filter(source=ticket, target=other, kind=kind).exists():
            raise Conflict(f"{ticket.key} is already linked to {other.key}.", field="target")
        created = TicketLink.objects.create(source=ticket, target=other, kind=kind)
        events.record(ticket, "linked", actor=actor, after={"kind": kind, "target": other.key})
        events.record(other, "linked", actor=actor, after={"kind": kind, "target": ticket.key})
    return created


def merge(actor: User, duplicate: Ticket, *, into: Ticket) -> TicketLink:
    """Mark `duplicate` as a duplicate of `into`: its comments move over and it is closed."""
    check_agent_on(actor, duplicate)
    check_agent_on(actor, into)
    if duplicate.pk == into.pk:
        raise Invalid("A ticket cannot be a duplicate of itself.", field="target")
    if into.organization_id != duplicate.organization_id:
        raise Invalid("Only tickets of the same organization can be merged.", field="target")
    with transaction.atomic():
        # Both read again under a row lock (in key order): a merge or a close that committed
        # since the caller loaded the tickets must not be merged over (it is a conflict).
        for row in sorted([duplicate, into], key=lambda t: t.pk):
            locked(row, *RELATED)
        if not into.is_open:
            raise Conflict(
                f"{into.key} is {into.status}; merge into an open ticket.", field="target"
            )
        if not duplicate.is_open:
            raise Conflict(f"{duplicate.key} is already {duplicate.status}.", field="source")
        # They keep the ticket they were written on: its customer still reads them there.
        origin = Coalesce(F("merged_from"), Value(duplicate.pk), output_field=IntegerField())
        moved = duplicate.comments.update(ticket=into, merged_from=origin)
        duplicate.attachments.update(ticket=into, merged_from=origin)
        into.watchers.add(*duplicate.watchers.all())
        if duplicate.requester_id:
            into.watchers.add(duplicate.requester_id)
        created = TicketLink.objects.create(
            source=duplicate, target=into, kind=TicketLink.Kind.DUPLICATE
        )
        before = snapshot(duplicate)
        duplicate.status, duplicate.closed_at = Status.CLOSED, timezone.now()
        save_change(duplicate, actor, "merged", before)
        events.record(
            duplicate, "merged_into", actor=actor, after={"target": into.key, "comments": moved}
        )
        events.record(
            into, "merged_from", actor=actor, after={"source": duplicate.key, "comments": moved}
        )
        into.updated_at = timezone.now()
        save_changed(into, "updated_at")
    return created


def watch(actor: User, ticket: Ticket, user: User | None = None, *, on: bool = True) -> Ticket:
    """Add or remove a watcher (oneself, or anyone an agent chooses)."""
    check_can_read(actor, ticket)
    user = user or actor
    if user.pk != actor.pk and not actor.is_agent:
        raise Forbidden("Only agents may add other watchers.")
    if not tenancy.can_see_organization(user, ticket.organization_id):
        raise Invalid(f"{user.email} cannot see this ticket.", field="user")
    with transaction.atomic():
        locked(ticket)  # the same watcher added twice at once: one row, no integrity error
        if on:
            ticket.watchers.add(user)
        else:
            ticket.watchers.remove(user)
        events.record(
            ticket,
            "watched" if on else "unwatched",
            actor=actor,
            after={"user": user.name},
            is_public=False,
        )
    return ticket
