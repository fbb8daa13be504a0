"""Every change to a ticket goes through these functions, whichever door it came through.

Each checks permission, validates the whole input, writes inside one transaction, records
the event on the ticket's timeline and queues the notifications.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from sustain.accounts import refs as account_refs
from sustain.accounts.models import Team, User
from sustain.cmdb import refs as cmdb_refs
from sustain.core import attachments as files
from sustain.core import events
from sustain.core.errors import Conflict, Forbidden, Invalid, refuse_unknown
from sustain.core.locking import locked, locked_all, save_changed
from sustain.core.models import as_priority
from sustain.desk import notifications, refs, workflow
from sustain.desk.common import (
    RELATED,
    as_level,
    check_agent_on,
    check_assignment,
    check_can_read,
    follow_clocks,
    priority_over_matrix,
    save_change,
    snapshot,
    tags_named,
)
from sustain.desk.models import (
    OPEN_STATUSES,
    Attachment,
    Channel,
    Comment,
    SavedFilter,
    Status,
    Ticket,
)
from sustain.desk.opening import (
    STAFF_ONLY_ON_OPEN,
    TITLE_MAX,
    as_written,
    check_open,
    open_ticket,
)
from sustain.desk.relations import link, merge, set_parent, watch
from sustain.sla import clocks as sla_clocks


def patch_ticket(actor: User, ticket: Ticket, changes: dict[str, Any]) -> None:
    """A partial update of several fields (the API's PATCH), applied together or not at all.
    References (team, assignee, parent, affected_ci) come as keys or ids."""
    with transaction.atomic():
        # Read again under the lock: a field left out keeps its value of now, not of the read
        # above (two PATCHes of team and of assignee at once keep both).
        locked(ticket, *RELATED)
        if "team" in changes or "assignee" in changes:
            assign(
                actor,
                ticket,
                team=account_refs.team(actor, changes.pop("team", ticket.team_id)),
                assignee=account_refs.user(
                    actor, changes.pop("assignee", ticket.assignee_id), "assignee"
                ),
            )
        if "priority" in changes or "priority_reason" in changes:
            set_priority(
                actor,
                ticket,
                changes.pop("priority", ticket.priority),
                changes.pop("priority_reason", "") or "",
            )
        if "parent" in changes:
            set_parent(actor, ticket, refs.ticket(actor, changes.pop("parent"), "parent"))
        if "affected_ci" in changes:
            changes["affected_ci"] = cmdb_refs.config_item(actor, changes["affected_ci"])
        if changes:
            update_ticket(actor, ticket, **changes)


def update_ticket(actor: User, ticket: Ticket, **changes: Any) -> Ticket:
    """Change title, description, impact, urgency, affected item or tags."""
    allowed = {"title", "description", "impact", "urgency", "affected_ci", "tags"}
    refuse_unknown(changes, allowed, "Cannot change {names} here.")
    check_agent_on(actor, ticket)
    if "title" in changes:
        changes["title"] = (changes["title"] or "").strip()
        if not changes["title"] or len(changes["title"]) > TITLE_MAX:
            raise Invalid(f"The title must have 1 to {TITLE_MAX} characters.", field="title")
    for field in ("impact", "urgency"):
        if field in changes:
            changes[field] = as_level(changes[field], field)
    ci = changes.get("affected_ci")
    if ci is not None and ci.organization_id != ticket.organization_id:
        raise Invalid("The affected item belongs to another organization.", field="affected_ci")
    tags = tags_named(changes.pop("tags")) if "tags" in changes else None
    with transaction.atomic():
        locked(ticket, *RELATED)
        before = snapshot(ticket)
        for key, value in changes.items():
            setattr(ticket, key, value)
        if ("impact" in changes or "urgency" in changes) and not ticket.priority_reason:
            ticket.priority = workflow.priority_for(ticket.impact, ticket.urgency)
        save_change(ticket, actor, "updated", before)
        if tags is not None:
            old = sorted(t.name for t in ticket.tags.all())
            ticket.tags.set(tags)
            new = sorted(t.name for t in tags)
            if old != new:
                event = events.record(
                    ticket, "tagged", actor=actor, before={"tags": old}, after={"tags": new}
                )
                notifications.ticket_changed(ticket, actor, {"tags": old}, {"tags": new}, event)
    return ticket


def set_priority(actor: User, ticket: Ticket, priority: Any, reason: str = "") -> Ticket:
    """Override the matrix's priority (with a reason), or return to it (priority None)."""
    check_agent_on(actor, ticket)
    if priority is not None:
        as_priority(priority)
    with transaction.atomic():
        locked(ticket, *RELATED)  # the matrix cell follows the impact and urgency of now
        new_priority, reason = priority_over_matrix(ticket.impact, ticket.urgency, priority, reason)
        before = {**snapshot(ticket), "priority_reason": ticket.priority_reason}
        ticket.priority, ticket.priority_reason = new_priority, reason
        ticket.updated_at = timezone.now()
        save_changed(ticket, "updated_at")
        old, new = events.changes(before, {**snapshot(ticket), "priority_reason": reason})
        if new:
            event = events.record(ticket, "priority_changed", actor=actor, before=old, after=new)
            notifications.ticket_changed(ticket, actor, old, new, event)
        follow_clocks(ticket, old, new)
    return ticket


def assign(
    actor: User, ticket: Ticket, *, team: Team | None = None, assignee: User | None = None
) -> Ticket:
    """Set the assignee team and agent (None clears)."""
    check_agent_on(actor, ticket)
    check_assignment(ticket.organization, team, assignee)
    with transaction.atomic():
        locked(ticket, *RELATED)
        before = snapshot(ticket)
        ticket.team, ticket.assignee = team, assignee
        if assignee is not None and ticket.status == Status.NEW:
            ticket.status = Status.OPEN
        save_change(ticket, actor, "assigned", before)
        if assignee is not None:
            ticket.watchers.add(assignee)
    return ticket


def transition(
    actor: User, ticket: Ticket, status: str, *, reason: str = "", quiet: bool = False
) -> Ticket:
    """Move a ticket along the workflow; an illegal move is refused and names the legal ones.
    `quiet`: the caller tells the people itself (a fix notice), no status mail."""
    check_can_read(actor, ticket)
    if status not in Status.values:
        raise Invalid(f"Unknown status '{status}'.", field="status")
    if actor.is_customer and ticket.requester_id != actor.pk and status != Status.OPEN:
        raise Forbidden("Only the requester may close or cancel this ticket.")
    with transaction.atomic():
        # The move is checked against the status of now: of two moves at once from the same
        # status, the second sees the first's and is refused if it is no longer legal.
        locked(ticket, *RELATED)
        allowed = workflow.allowed_transitions(ticket.status, customer=actor.is_customer)
        if status not in allowed:
            legal = ", ".join(sorted(allowed)) or "none"
            raise Conflict(
                f"{ticket.key} cannot go from {ticket.status} to {status} (allowed: {legal}).",
                field="status",
            )
        before = snapshot(ticket)
        now = timezone.now()
        reopened = ticket.status not in OPEN_STATUSES and status == Status.OPEN
        ticket.status = status
        if status == Status.RESOLVED:
            ticket.resolved_at = now
        if status == Status.CLOSED:
            ticket.closed_at = now
        if reopened:
            ticket.resolved_at = ticket.closed_at = None
        save_change(
            ticket,
            actor,
            "reopened" if reopened else "status_changed",
            before,
            reason=reason.strip(),
            quiet=quiet,
        )
        if reason.strip():
            _comment(actor, ticket, reason.strip(), is_public=True, channel=Channel.WEB, mail=False)
        if status == Status.RESOLVED:
            _resolve_children(actor, ticket)
    return ticket


def _resolve_children(actor: User, parent: Ticket) -> None:
    """Resolving a major incident resolves the incidents attached to it."""
    for child in locked_all(
        parent.children.filter(status__in=OPEN_STATUSES).select_related(*RELATED)
    ):
        before = snapshot(child)
        child.status, child.resolved_at = Status.RESOLVED, timezone.now()
        save_change(child, actor, "status_changed", before)
        events.record(child, "resolved_with_parent", actor=actor, after={"parent": parent.key})


def _comment(
    actor: User | None,
    ticket: Ticket,
    body: str,
    *,
    is_public: bool,
    channel: str,
    mail: bool = True,
) -> Comment:
    """Write a comment on the timeline and tell who follows the ticket (`mail` False when
    the action's own mail carries it)."""
    comment = Comment.objects.create(
        ticket=ticket, author=actor, body=body, is_public=is_public, channel=channel
    )
    event = events.record(
        ticket,
        "commented" if is_public else "noted",
        actor=actor,
        after={"comment": comment.pk},
        is_public=is_public,
    )
    notifications.comment_added(ticket, comment, actor, event, mail=mail)
    return comment


def add_comment(
    actor: User,
    ticket: Ticket,
    body: str,
    *,
    is_public: bool = True,
    channel: str = Channel.WEB,
    uploads: Iterable[tuple[str, bytes]] = (),
    quiet: bool = False,
) -> Comment:
    """A public reply or an internal note, with attachments; replies move the workflow on.
    `quiet`: the caller tells the people itself (a fix notice), no reply mail."""
    check_can_read(actor, ticket)
    body = (body or "").strip()
    if not body:
        raise Invalid("The comment is empty.", field="body")
    if actor.is_customer and not is_public:
        raise Forbidden("Customers cannot write internal notes.")
    if channel not in Channel.values:
        raise Invalid(f"channel must be one of {', '.join(Channel.values)}.", field="channel")
    checked = [files.check(name, content) for name, content in uploads]
    with transaction.atomic():
        locked(ticket, *RELATED)  # the reply moves the status it reads
        comment = _comment(actor, ticket, body, is_public=is_public, channel=channel, mail=False)
        for upload in checked:
            _store_attachment(actor, ticket, upload, comment=comment, is_public=is_public)
        before, verb = snapshot(ticket), "status_changed"
        if actor.is_customer and ticket.status == Status.PENDING:
            ticket.status = Status.OPEN  # the customer answered
        elif actor.is_customer and ticket.status == Status.RESOLVED:
            # Customers are told "Resolved: reply if the problem is still there"; a reply says so.
            ticket.status, ticket.resolved_at, verb = Status.OPEN, None, "reopened"
        elif actor.is_agent and is_public and ticket.status == Status.NEW:
            ticket.status = Status.OPEN
        # The reply tells its readers the new status; no second mail for the status.
        save_change(ticket, actor, verb, before, quiet=is_public)
        if is_public:
            sla_clocks.public_reply(ticket, actor, comment.created_at)
            if not quiet:
                notifications.public_reply(ticket, comment, actor)
    return comment


def _store_attachment(
    actor: User,
    ticket: Ticket,
    upload: files.CheckedFile,
    *,
    comment: Comment | None,
    is_public: bool,
) -> Attachment:
    return files.store(
        Attachment,
        actor,
        ticket,
        upload,
        event_public=is_public,
        is_public=is_public,
        ticket=ticket,
        comment=comment,
    )


def add_attachment(
    actor: User, ticket: Ticket, filename: str, content: bytes, *, is_public: bool = True
) -> Attachment:
    check_can_read(actor, ticket)
    if actor.is_customer and not is_public:
        raise Forbidden("Customers cannot add internal attachments.")
    upload = files.check(filename, content)
    with transaction.atomic():
        attachment = _store_attachment(actor, ticket, upload, comment=None, is_public=is_public)
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["updated_at"])
    return attachment


def save_filter(actor: User, *, name: str, query: str, shared: bool = False) -> SavedFilter:
    """Keep the current queue filter under a name, for oneself or for every agent."""
    from sustain.desk.models import SavedFilter

    if not actor.is_agent:
        raise Forbidden("Only agents have saved filters.")
    name = (name or "").strip()
    if not name:
        raise Invalid("A name is required.", field="name")
    with transaction.atomic():
        saved, _ = SavedFilter.objects.update_or_create(
            owner=actor, name=name, defaults={"query": query.lstrip("?"), "shared": shared}
        )
    return saved


def set_priority_matrix(actor: User, cells: Iterable[tuple[int, int, int]]) -> None:
    """Replace cells of the impact × urgency → priority matrix (administrators)."""
    from sustain.desk.models import PriorityRule

    if not actor.is_admin:
        raise Forbidden("Only administrators may change the priority matrix.")
    checked = [
        (as_level(impact, "impact"), as_level(urgency, "urgency"), as_priority(priority))
        for impact, urgency, priority in cells
    ]
    with transaction.atomic():
        before = {f"{r.impact}x{r.urgency}": r.priority for r in PriorityRule.objects.all()}
        for impact, urgency, priority in checked:
            PriorityRule.objects.update_or_create(
                impact=impact, urgency=urgency, defaults={"priority": priority}
            )
        after = {f"{i}x{u}": p for i, u, p in checked}
        rule = (
            PriorityRule.objects.get(impact=checked[0][0], urgency=checked[0][1])
            if checked
            else None
        )
        if rule is not None:
            old, new = events.changes(before, after)
            events.record(
                rule, "matrix_changed", actor=actor, before=old, after=new, is_public=False
            )


# The doors' names: this module's actions, those of desk/opening.py and desk/relations.py, and
# the shared checks other apps call (desk/common.py).
__all__ = [
    "STAFF_ONLY_ON_OPEN",
    "TITLE_MAX",
    "add_attachment",
    "add_comment",
    "as_written",
    "assign",
    "check_agent_on",
    "check_can_read",
    "check_open",
    "link",
    "merge",
    "open_ticket",
    "patch_ticket",
    "save_filter",
    "set_parent",
    "set_priority",
    "set_priority_matrix",
    "snapshot",
    "transition",
    "update_ticket",
    "watch",
]
