"""Bugs and the incidents they cause: links both ways, the impact counts the triage queue sorts
by, bugs made from tickets, and duplicates (whose links merge into the original)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from sustain.accounts.actions import require_agent
from sustain.accounts.models import User
from sustain.bugs import regressions, workflow
from sustain.bugs.lines import add_affected_lines
from sustain.bugs.models import Bug, BugTicket, Status
from sustain.core import events
from sustain.core.errors import Conflict, Invalid, NotFound
from sustain.core.locking import locked, save_changed
from sustain.desk.actions import check_can_read
from sustain.desk.models import Ticket


def recount(bug: Bug) -> None:
    """incident_count, organization_count, environment_count from the BugTicket rows (inside
    the caller's transaction, after the links changed)."""
    counts = BugTicket.objects.filter(bug=bug).aggregate(
        incidents=Count("id"),
        organizations=Count("ticket__organization", distinct=True),
        environments=Count("ticket__affected_ci", distinct=True),
    )
    bug.incident_count = counts["incidents"]
    bug.organization_count = counts["organizations"]
    bug.environment_count = counts["environments"]
    bug.updated_at = timezone.now()
    bug.save(
        update_fields=["incident_count", "organization_count", "environment_count", "updated_at"]
    )


def check_ticket(actor: User, ticket: Ticket) -> None:
    require_agent(actor)
    try:
        check_can_read(actor, ticket)
    except NotFound:
        raise Invalid("No such ticket among those you serve.", field="ticket") from None


def _linked(actor: User, bug: Bug, ticket: Ticket, verb: str) -> None:
    """Events on both sides; the bug's is tied to the ticket's customer (it names the ticket)."""
    events.record(
        bug,
        verb,
        actor=actor,
        after={"ticket": ticket.key},
        is_public=False,
        organization_id=ticket.organization_id,
    )
    events.record(
        ticket, verb, actor=actor, after={"bug": bug.key, "title": bug.title}, is_public=False
    )


def link_ticket(actor: User, bug: Bug, ticket: Ticket) -> BugTicket:
    """Record that `ticket` is caused by `bug`. A new incident on a verified or closed bug may
    be a regression (see bugs/regressions.py)."""
    check_ticket(actor, ticket)
    with transaction.atomic():
        locked(bug)  # the counts and the status of now
        if BugTicket.objects.filter(bug=bug, ticket=ticket).exists():
            raise Conflict(f"{ticket.key} is already linked to {bug.key}.", field="ticket")
        link = BugTicket.objects.create(bug=bug, ticket=ticket, created_by=actor)
        recount(bug)
        _linked(actor, bug, ticket, "ticket_linked")
        regressions.check_new_incident(actor, bug, ticket)
    return link


def unlink_ticket(actor: User, bug: Bug, ticket: Ticket) -> None:
    check_ticket(actor, ticket)
    with transaction.atomic():
        locked(bug)  # the counts and the status of now
        deleted, _ = BugTicket.objects.filter(bug=bug, ticket=ticket).delete()
        if not deleted:
            raise NotFound(f"{ticket.key} is not linked to {bug.key}.", field="ticket")
        recount(bug)
        _linked(actor, bug, ticket, "ticket_unlinked")


def mark_duplicate(actor: User, bug: Bug, *, original: Bug) -> Bug:
    """`bug` duplicates `original`: its status becomes duplicate, its incidents are linked to
    the original too (and, of the same product, its affected versions), bugs marked as its
    duplicates now point at the original; impact is recounted on both. Any product; never
    itself, never a loop, never onto a duplicate."""
    require_agent(actor)
    if original is None:
        raise Invalid("Name the original bug.", field="original")
    if original.pk == bug.pk:
        raise Invalid("A bug cannot duplicate itself.", field="original")
    with transaction.atomic():
        for row in sorted([bug, original], key=lambda b: b.pk):  # key order: no deadlock
            locked(row)
        if original.status == Status.DUPLICATE:
            target = original.duplicate_of.key if original.duplicate_of else "another bug"
            raise Invalid(
                f"{original.key} is itself a duplicate of {target}: use that one.",
                field="original",
            )
        seen, step = {bug.pk}, original
        while step.duplicate_of_id is not None:  # a loop back to `bug` is refused
            if step.duplicate_of_id in seen:
                raise Invalid("That would make a loop of duplicates.", field="original")
            seen.add(step.pk)
            step = Bug.objects.get(pk=step.duplicate_of_id)
        if Status.DUPLICATE not in workflow.allowed_transitions(bug.status):
            raise Conflict(
                f"{bug.key} cannot go from {bug.status} to duplicate "
                f"(allowed: {', '.join(sorted(workflow.allowed_transitions(bug.status)))}).",
                field="status",
            )
        now = timezone.now()
        old_status = bug.status
        workflow.enter(bug, Status.DUPLICATE, now)
        bug.duplicate_of, bug.updated_at = original, now
        save_changed(bug, "updated_at")
        Bug.objects.filter(duplicate_of=bug).update(duplicate_of=original, updated_at=now)
        already = set(BugTicket.objects.filter(bug=original).values_list("ticket_id", flat=True))
        moved = [
            link
            for link in BugTicket.objects.filter(bug=bug).select_related(
                "ticket__affected_ci__version"
            )
            if link.ticket_id not in already
        ]
        BugTicket.objects.bulk_create(
            [BugTicket(bug=original, ticket=link.ticket, created_by=actor) for link in moved]
        )
        if original.product_id == bug.product_id:
            versions = list(bug.affected_versions.all())
            original.affected_versions.add(*versions)
            add_affected_lines(original, versions)
        recount(bug)
        locked(original)
        recount(original)
        events.record(
            bug,
            "marked_duplicate",
            actor=actor,
            before={"status": old_status},
            after={"status": Status.DUPLICATE, "original": original.key, "tickets": len(moved)},
        )
        events.record(
            original,
            "duplicate_merged",
            actor=actor,
            after={"duplicate": bug.key, "tickets": len(moved)},
            is_public=False,
        )
        for link in moved:
            events.record(
                link.ticket,
                "ticket_linked",
                actor=actor,
                after={"bug": original.key, "title": original.title},
                is_public=False,
            )
        for link in moved:
            if regressions.check_new_incident(actor, original, link.ticket):
                break  # flagged (and reopened) once
    return bug
