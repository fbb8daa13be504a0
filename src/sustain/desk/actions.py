"""Every change to a ticket goes through these functions, whichever door it came through.

Each checks permission, validates the whole input, writes inside one transaction, records
the event on the ticket's timeline and queues the notifications.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from sustain.accounts.models import Organization, Team, User
from sustain.cmdb.models import ConfigItem
from sustain.core import counters, events, tenancy
from sustain.core.errors import Conflict, Forbidden, Invalid, NotFound
from sustain.desk import attachments as files
from sustain.desk import notifications, workflow
from sustain.desk.models import (
    KEY_PREFIX,
    OPEN_STATUSES,
    Attachment,
    Channel,
    Comment,
    Kind,
    Level,
    Priority,
    Status,
    Tag,
    Ticket,
    TicketLink,
)
from sustain.sla import clocks as sla_clocks

TITLE_MAX = 300


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
    }


def _can_read(actor: User, ticket: Ticket) -> bool:
    return tenancy.visible(Ticket.objects.filter(pk=ticket.pk), actor).exists()


def check_can_read(actor: User, ticket: Ticket) -> None:
    if not _can_read(actor, ticket):
        raise NotFound(f"No ticket {ticket.key}.")


def check_agent_on(actor: User, ticket: Ticket) -> None:
    check_can_read(actor, ticket)
    if not actor.is_agent:
        raise Forbidden("Only agents may do this.")


def _level(value: Any, field: str) -> int:
    try:
        level = int(value)
    except (TypeError, ValueError):
        level = 0
    if level not in Level.values:
        raise Invalid(f"{field} must be 1 (high), 2 (medium) or 3 (low).", field=field)
    return level


def _priority(value: Any) -> int:
    try:
        priority = int(value)
    except (TypeError, ValueError):
        priority = 0
    if priority not in Priority.values:
        raise Invalid("priority must be 1, 2, 3 or 4.", field="priority")
    return priority


def _check_assignment(ticket_org: Organization, team: Team | None, assignee: User | None) -> None:
    if assignee is not None:
        if not assignee.is_agent or not assignee.is_active:
            raise Invalid(f"{assignee.email} is not an active agent.", field="assignee")
        if not tenancy.can_see_organization(assignee, ticket_org.pk):
            raise Invalid(f"{assignee.name} does not serve {ticket_org.name}.", field="assignee")
        if team is not None and not team.members.filter(pk=assignee.pk).exists():
            raise Invalid(f"{assignee.name} is not a member of {team.name}.", field="assignee")


def _check_parent_owner(organization: Organization, parent: Ticket) -> None:
    """A major incident is the customer's own or the provider's, never another customer's:
    the child shows its parent's key to the child's customer (fields, list rows, events)."""
    if parent.organization_id != organization.pk and not parent.organization.is_provider:
        raise Invalid(
            f"{parent.key} belongs to another customer; a major incident is the customer's "
            "own or the provider's.",
            field="parent",
        )


def _tags(names: Iterable[str]) -> list[Tag]:
    cleaned = sorted({n.strip().lower() for n in names if n and n.strip()})
    for name in cleaned:
        if len(name) > 50:
            raise Invalid(f"Tag '{name[:20]}…' is longer than 50 characters.", field="tags")
    existing = {t.name: t for t in Tag.objects.filter(name__in=cleaned)}
    return [existing.get(n) or Tag.objects.get_or_create(name=n)[0] for n in cleaned]


def open_ticket(
    actor: User,
    *,
    title: str,
    description: str = "",
    kind: str = Kind.INCIDENT,
    organization: Organization | None = None,
    requester: User | None = None,
    affected_ci: ConfigItem | None = None,
    impact: Any = Level.MEDIUM,
    urgency: Any = Level.MEDIUM,
    priority: Any = None,
    priority_reason: str = "",
    channel: str = Channel.WEB,
    team: Team | None = None,
    assignee: User | None = None,
    tags: Iterable[str] = (),
    watchers: Iterable[User] = (),
    parent: Ticket | None = None,
    uploads: Iterable[tuple[str, bytes]] = (),
) -> Ticket:
    """Open an incident or service request; customers open them for their own organization.

    Attached files are checked with everything else, before anything is written.
    """
    title = (title or "").strip()
    if not title:
        raise Invalid("A title is required.", field="title")
    if len(title) > TITLE_MAX:
        raise Invalid(f"The title is longer than {TITLE_MAX} characters.", field="title")
    if kind not in Kind.values:
        raise Invalid("kind must be incident or request.", field="kind")
    if channel not in Channel.values:
        raise Invalid(f"channel must be one of {', '.join(Channel.values)}.", field="channel")
    impact, urgency = _level(impact, "impact"), _level(urgency, "urgency")

    if actor.is_customer:
        if organization is not None and organization.pk != actor.organization_id:
            raise Invalid(
                "Customers open tickets for their own organization.", field="organization"
            )
        if priority is not None or team or assignee or parent or priority_reason:
            raise Forbidden("Customers cannot set priority, team, assignee or parent.")
        organization, requester = actor.organization, requester or actor
        if requester.pk != actor.pk:
            raise Invalid("Customers open tickets in their own name.", field="requester")
    else:
        organization = organization or (requester.organization if requester else None)
        if organization is None:
            raise Invalid("An organization or a requester is required.", field="organization")
        if not tenancy.can_see_organization(actor, organization.pk):
            raise Invalid(f"You do not serve {organization.name}.", field="organization")
        if requester is not None and requester.organization_id != organization.pk:
            raise Invalid(f"{requester.email} is not in {organization.name}.", field="requester")

    if affected_ci is not None and affected_ci.organization_id != organization.pk:
        raise Invalid("The affected item belongs to another organization.", field="affected_ci")
    if parent is not None and not _can_read(actor, parent):
        raise Invalid("No such parent ticket.", field="parent")
    if parent is not None:
        _check_parent_owner(organization, parent)
    _check_assignment(organization, team, assignee)

    matrix_priority = workflow.priority_for(impact, urgency)
    if priority is not None and _priority(priority) != matrix_priority:
        if not (priority_reason or "").strip():
            raise Invalid(
                "Overriding the matrix's priority needs a reason.", field="priority_reason"
            )
        final_priority = _priority(priority)
    else:
        final_priority, priority_reason = matrix_priority, ""

    checked = [files.check(name, content) for name, content in uploads]
    watcher_list = list(watchers)
    with transaction.atomic():
        number = counters.next_value(f"ticket:{kind}")
        now = timezone.now()
        ticket = Ticket.objects.create(
            key=f"{KEY_PREFIX[Kind(kind)]}-{number}",
            kind=kind,
            title=title,
            description=description or "",
            organization=organization,
            requester=requester,
            affected_ci=affected_ci,
            impact=impact,
            urgency=urgency,
            priority=final_priority,
            priority_reason=priority_reason.strip(),
            channel=channel,
            team=team,
            assignee=assignee,
            parent=parent,
            created_at=now,
            updated_at=now,
        )
        if tags:
            ticket.tags.set(_tags(tags))
        if watcher_list:
            ticket.watchers.set(watcher_list)
        for upload in checked:
            _store_attachment(actor, ticket, upload, comment=None, is_public=True)
        created = events.record(ticket, "created", actor=actor, after=snapshot(ticket))
        sla_clocks.start(ticket, now)
        notifications.ticket_created(ticket, actor, created)
    return ticket


def _save(
    ticket: Ticket,
    actor: User,
    verb: str,
    before: dict,
    *,
    is_public: bool = True,
    quiet: bool = False,
    reason: str = "",
) -> None:
    """Save, record the change on the timeline, move the clocks, tell who needs to know
    (`quiet`: the action tells them itself)."""
    ticket.updated_at = timezone.now()
    ticket.save()
    old, new = events.changes(before, snapshot(ticket))
    if new:
        event = events.record(ticket, verb, actor=actor, before=old, after=new, is_public=is_public)
        notifications.ticket_changed(ticket, actor, old, new, event, quiet=quiet, reason=reason)
    _follow_clocks(ticket, old, new)


def _follow_clocks(ticket: Ticket, old: dict, new: dict) -> None:
    """Keep the SLA clocks in step with what just changed on the ticket."""
    if "priority" in new or "organization" in new or "affected_ci" in new:
        sla_clocks.recompute(ticket, ticket.updated_at)
    elif "status" in new:
        sla_clocks.status_changed(ticket, old["status"], new["status"], ticket.updated_at)


def update_ticket(actor: User, ticket: Ticket, **changes: Any) -> Ticket:
    """Change title, description, impact, urgency, affected item or tags."""
    allowed = {"title", "description", "impact", "urgency", "affected_ci", "tags"}
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid(f"Cannot change {', '.join(sorted(unknown))} here.", field=sorted(unknown)[0])
    check_agent_on(actor, ticket)
    if "title" in changes:
        changes["title"] = (changes["title"] or "").strip()
        if not changes["title"] or len(changes["title"]) > TITLE_MAX:
            raise Invalid(f"The title must have 1 to {TITLE_MAX} characters.", field="title")
    for field in ("impact", "urgency"):
        if field in changes:
            changes[field] = _level(changes[field], field)
    ci = changes.get("affected_ci")
    if ci is not None and ci.organization_id != ticket.organization_id:
        raise Invalid("The affected item belongs to another organization.", field="affected_ci")
    tags = _tags(changes.pop("tags")) if "tags" in changes else None
    with transaction.atomic():
        before = snapshot(ticket)
        for key, value in changes.items():
            setattr(ticket, key, value)
        if ("impact" in changes or "urgency" in changes) and not ticket.priority_reason:
            ticket.priority = workflow.priority_for(ticket.impact, ticket.urgency)
        _save(ticket, actor, "updated", before)
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
    matrix = workflow.priority_for(ticket.impact, ticket.urgency)
    reason = (reason or "").strip()
    if priority is None or _priority(priority) == matrix:
        new_priority, reason = matrix, ""
    else:
        new_priority = _priority(priority)
        if not reason:
            raise Invalid(
                "Overriding the matrix's priority needs a reason.", field="priority_reason"
            )
    with transaction.atomic():
        before = {**snapshot(ticket), "priority_reason": ticket.priority_reason}
        ticket.priority, ticket.priority_reason = new_priority, reason
        ticket.updated_at = timezone.now()
        ticket.save()
        old, new = events.changes(before, {**snapshot(ticket), "priority_reason": reason})
        if new:
            event = events.record(ticket, "priority_changed", actor=actor, before=old, after=new)
            notifications.ticket_changed(ticket, actor, old, new, event)
        _follow_clocks(ticket, old, new)
    return ticket


def assign(
    actor: User, ticket: Ticket, *, team: Team | None = None, assignee: User | None = None
) -> Ticket:
    """Set the assignee team and agent (None clears)."""
    check_agent_on(actor, ticket)
    _check_assignment(ticket.organization, team, assignee)
    with transaction.atomic():
        before = snapshot(ticket)
        ticket.team, ticket.assignee = team, assignee
        if assignee is not None and ticket.status == Status.NEW:
            ticket.status = Status.OPEN
        _save(ticket, actor, "assigned", before)
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
    allowed = workflow.allowed_transitions(ticket.status, customer=actor.is_customer)
    if status not in allowed:
        legal = ", ".join(sorted(allowed)) or "none"
        raise Conflict(
            f"{ticket.key} cannot go from {ticket.status} to {status} (allowed: {legal}).",
            field="status",
        )
    with transaction.atomic():
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
        _save(
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
    for child in parent.children.filter(status__in=OPEN_STATUSES).select_related(
        "team", "assignee", "organization", "affected_ci", "parent"
    ):
        before = snapshot(child)
        child.status, child.resolved_at = Status.RESOLVED, timezone.now()
        _save(child, actor, "status_changed", before)
        events.record(child, "resolved_with_parent", actor=actor, after={"parent": parent.key})


def set_parent(actor: User, ticket: Ticket, parent: Ticket | None) -> Ticket:
    """Attach an incident to a major incident (or detach it with None)."""
    check_agent_on(actor, ticket)
    if parent is not None:
        check_can_read(actor, parent)
        if parent.pk == ticket.pk:
            raise Invalid("A ticket cannot be its own parent.", field="parent")
        _check_parent_owner(ticket.organization, parent)
        if parent.parent is not None:
            raise Invalid(
                f"{parent.key} is itself attached to {parent.parent.key}.", field="parent"
            )
        if ticket.children.exists():
            raise Invalid(f"{ticket.key} has children; it cannot have a parent.", field="parent")
    with transaction.atomic():
        before = snapshot(ticket)
        ticket.parent = parent
        _save(ticket, actor, "parent_changed", before)
    return ticket


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
        _save(ticket, actor, verb, before, quiet=is_public)
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


def link(actor: User, ticket: Ticket, other: Ticket, kind: str = TicketLink.Kind.RELATED):
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
        # Read both statuses again under a row lock: a merge or a close that committed since
        # the caller loaded the tickets must not be merged over (it is a conflict, not an error).
        current = dict(
            Ticket.objects.select_for_update()
            .filter(pk__in=[duplicate.pk, into.pk])
            .order_by("pk")
            .values_list("pk", "status")
        )
        duplicate.status, into.status = current[duplicate.pk], current[into.pk]
        if not into.is_open:
            raise Conflict(
                f"{into.key} is {into.status}; merge into an open ticket.", field="target"
            )
        if not duplicate.is_open:
            raise Conflict(f"{duplicate.key} is already {duplicate.status}.", field="source")
        moved = duplicate.comments.update(ticket=into)
        duplicate.attachments.update(ticket=into)
        into.watchers.add(*duplicate.watchers.all())
        if duplicate.requester_id:
            into.watchers.add(duplicate.requester_id)
        created = TicketLink.objects.create(
            source=duplicate, target=into, kind=TicketLink.Kind.DUPLICATE
        )
        before = snapshot(duplicate)
        duplicate.status, duplicate.closed_at = Status.CLOSED, timezone.now()
        _save(duplicate, actor, "merged", before)
        events.record(
            duplicate, "merged_into", actor=actor, after={"target": into.key, "comments": moved}
        )
        events.record(
            into, "merged_from", actor=actor, after={"source": duplicate.key, "comments": moved}
        )
        into.updated_at = timezone.now()
        into.save(update_fields=["updated_at"])
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


def save_filter(actor: User, *, name: str, query: str, shared: bool = False):
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
        (_level(impact, "impact"), _level(urgency, "urgency"), _priority(priority))
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
