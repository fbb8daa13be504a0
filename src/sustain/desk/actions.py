"""Every change to a ticket goes through these functions, whichever door it came through.

Each checks permission, validates the whole input, writes inside one transaction, records
the event on the ticket's timeline and queues the notifications.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from sustain.accounts.models import Organization, Team, User
from sustain.cmdb.models import ConfigItem
from sustain.core import counters, events, tenancy
from sustain.core.errors import Conflict, Forbidden, Invalid
from sustain.core.locking import locked, locked_all, save_changed
from sustain.desk import attachments as files
from sustain.desk import notifications, refs, workflow
from sustain.desk.models import (
    KEY_PREFIX,
    OPEN_STATUSES,
    Attachment,
    Channel,
    Comment,
    Kind,
    Level,
    Status,
    Ticket,
)
from sustain.desk.relations import link, merge, set_parent, watch  # noqa: F401 (doors call them here)
from sustain.desk.rules import (
    RELATED,
    _can_read,
    _check_assignment,
    _check_parent_owner,
    _follow_clocks,
    _level,
    _priority,
    _save,
    _tags,
    check_agent_on,
    check_can_read,
    snapshot,
)
from sustain.hooks import actions as hooks
from sustain.notifications import preferences
from sustain.sla import clocks as sla_clocks

TITLE_MAX = 300
# Fields of a new ticket that are staff's to set. A door that takes a customer's own choices
# (the API, the portal form) passes their names as `chosen`; a customer naming any of these is
# refused by name. The channel is the door's word, not the requester's; other people watch a
# ticket when an agent adds them, as on the watcher endpoint (the mail door adds the colleagues
# a mail was addressed to itself, not as a choice of the sender).
STAFF_ONLY_ON_OPEN = (
    "channel",
    "watchers",
    "priority",
    "priority_reason",
    "team",
    "assignee",
    "parent",
)


@dataclass
class NewTicket:
    """A new ticket's fields once every check has passed: what the write needs, nothing more."""

    kind: str
    title: str
    description: str
    organization: Organization
    requester: User | None
    affected_ci: ConfigItem | None
    impact: int
    urgency: int
    priority: int
    priority_reason: str
    channel: str
    team: Team | None
    assignee: User | None
    parent: Ticket | None
    tags: list[str]
    watchers: list[User]
    uploads: list[files.CheckedFile]


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
    chosen: Iterable[str] = (),
) -> Ticket:
    """Open an incident or service request; customers open them for their own organization.

    `chosen` names the fields the requester set themselves (the rest come from the door or
    the defaults): a customer may not choose those in STAFF_ONLY_ON_OPEN. Attached files are
    checked with everything else, before anything is written.

    Everything that only reads happens before the transaction (on SQLite it holds the write
    lock from its first statement); the ticket comes back with its tags, watchers and clocks
    as written, so that a door can answer without reading it again.
    """
    new = check_open(
        actor,
        title=title,
        description=description,
        kind=kind,
        organization=organization,
        requester=requester,
        affected_ci=affected_ci,
        impact=impact,
        urgency=urgency,
        priority=priority,
        priority_reason=priority_reason,
        channel=channel,
        team=team,
        assignee=assignee,
        tags=tags,
        watchers=watchers,
        parent=parent,
        uploads=uploads,
        chosen=set(chosen),
    )
    # Read before the write, for the notification: who hears of every ticket, which webhooks.
    audience = (
        hooks.active_subscriptions(new.organization.pk),
        preferences.organization_contacts(new.organization),
    )
    return _write_open(actor, new, audience)


def check_open(actor: User, *, chosen: set[str], **fields: Any) -> NewTicket:
    """Every check of open_ticket, in the order a person fixes them; nothing is written."""
    title = (fields["title"] or "").strip()
    if not title:
        raise Invalid("A title is required.", field="title")
    if len(title) > TITLE_MAX:
        raise Invalid(f"The title is longer than {TITLE_MAX} characters.", field="title")
    if fields["kind"] not in Kind.values:
        raise Invalid("kind must be incident or request.", field="kind")
    if fields["channel"] not in Channel.values:
        raise Invalid(f"channel must be one of {', '.join(Channel.values)}.", field="channel")
    impact, urgency = _level(fields["impact"], "impact"), _level(fields["urgency"], "urgency")
    watchers = list(fields["watchers"])
    requester: User | None
    if actor.is_customer:
        organization, requester = _check_customer_open(actor, chosen, watchers, fields)
    else:
        organization, requester = _check_agent_open(actor, fields)
    parent, team, assignee = fields["parent"], fields["team"], fields["assignee"]
    if (
        fields["affected_ci"] is not None
        and fields["affected_ci"].organization_id != organization.pk
    ):
        raise Invalid("The affected item belongs to another organization.", field="affected_ci")
    if parent is not None and not _can_read(actor, parent):
        raise Invalid("No such parent ticket.", field="parent")
    if parent is not None:
        _check_parent_owner(organization, parent)
    _check_assignment(organization, team, assignee)
    priority, reason = _opening_priority(
        impact, urgency, fields["priority"], fields["priority_reason"]
    )
    return NewTicket(
        kind=fields["kind"],
        title=title,
        description=fields["description"] or "",
        organization=organization,
        requester=requester,
        affected_ci=fields["affected_ci"],
        impact=impact,
        urgency=urgency,
        priority=priority,
        priority_reason=reason,
        channel=fields["channel"],
        team=team,
        assignee=assignee,
        parent=parent,
        tags=list(fields["tags"]),
        watchers=watchers,
        uploads=[files.check(name, content) for name, content in fields["uploads"]],
    )


def _check_customer_open(
    actor: User, chosen: set[str], watchers: list[User], fields: dict[str, Any]
) -> tuple[Organization, User]:
    """A customer opens tickets for their own organization, in their own name, and sets none of
    the staff's fields."""
    for name in STAFF_ONLY_ON_OPEN:
        if name in chosen:
            raise Forbidden(f"Customers cannot set {name} on a new ticket.", field=name)
    organization = fields["organization"]
    if organization is not None and organization.pk != actor.organization_id:
        raise Invalid("Customers open tickets for their own organization.", field="organization")
    if any(fields[name] for name in ("team", "assignee", "parent", "priority_reason")) or (
        fields["priority"] is not None
    ):
        raise Forbidden("Customers cannot set priority, team, assignee or parent.")
    organization, requester = actor.organization, fields["requester"] or actor
    if requester.pk != actor.pk:
        raise Invalid("Customers open tickets in their own name.", field="requester")
    if any(not w.is_customer or w.organization_id != organization.pk for w in watchers):
        raise Invalid("Only the customer's colleagues can watch it.", field="watchers")
    return organization, requester


def _check_agent_open(actor: User, fields: dict[str, Any]) -> tuple[Organization, User | None]:
    """Staff open tickets for an organization they serve (the requester's, by default)."""
    requester = fields["requester"]
    organization = fields["organization"] or (requester.organization if requester else None)
    if organization is None:
        raise Invalid("An organization or a requester is required.", field="organization")
    if not tenancy.can_see_organization(actor, organization.pk):
        raise Invalid(f"You do not serve {organization.name}.", field="organization")
    if requester is not None and requester.organization_id != organization.pk:
        raise Invalid(f"{requester.email} is not in {organization.name}.", field="requester")
    return organization, requester


def _opening_priority(impact: int, urgency: int, priority: Any, reason: str) -> tuple[int, str]:
    """The matrix's priority, or the one chosen over it with a reason."""
    matrix_priority = workflow.priority_for(impact, urgency)
    if priority is None or _priority(priority) == matrix_priority:
        return matrix_priority, ""
    if not (reason or "").strip():
        raise Invalid("Overriding the matrix's priority needs a reason.", field="priority_reason")
    return _priority(priority), reason.strip()


def _write_open(actor: User, new: NewTicket, audience: tuple[list[Any], list[Any]]) -> Ticket:
    """The write of open_ticket: one short transaction.

    The gap-free counter's row stays locked from its increment to the commit, so it is taken as
    late as the ticket's key allows. On PostgreSQL the ticket's id comes from its sequence
    first: the event and the clocks (whose foreign keys are checked at commit) are written
    before the counter, the ticket row after it.
    """
    now = timezone.now()
    ticket = Ticket(
        kind=new.kind,
        title=new.title,
        description=new.description,
        organization=new.organization,
        requester=new.requester,
        affected_ci=new.affected_ci,
        impact=new.impact,
        urgency=new.urgency,
        priority=new.priority,
        priority_reason=new.priority_reason,
        channel=new.channel,
        team=new.team,
        assignee=new.assignee,
        parent=new.parent,
        created_at=now,
        updated_at=now,
    )
    early = connection.vendor == "postgresql"
    with transaction.atomic():
        if early:
            ticket.pk = _next_ticket_id()
            created, clocks = _record_opening(ticket, actor, now)
        ticket.key = f"{KEY_PREFIX[Kind(new.kind)]}-{counters.next_value(f'ticket:{new.kind}')}"
        ticket.save(force_insert=True)
        if not early:
            created, clocks = _record_opening(ticket, actor, now)
        tags = _tags(new.tags) if new.tags else []
        if tags:  # a new ticket has none yet: add, without reading which it has
            ticket.tags.add(*tags)
        if new.watchers:
            ticket.watchers.add(*new.watchers)
        for upload in new.uploads:
            _store_attachment(actor, ticket, upload, comment=None, is_public=True)
        # As written: the notification reads none of these again (and the door's answer need
        # not either, through as_written); the ticket goes back without them, as if read anew.
        tags = sorted(tags, key=lambda t: t.name)
        _remember(ticket, tags=tags, watchers=new.watchers, clocks=clocks, cc=[])
        subscriptions, contacts = audience
        notifications.ticket_created(
            ticket, actor, created, subscriptions=subscriptions, contacts=contacts
        )
        ticket._prefetched_objects_cache = {}  # type: ignore[attr-defined]
        ticket._as_written = {"tags": tags, "clocks": clocks}  # type: ignore[attr-defined]
    return ticket


def as_written(ticket: Ticket) -> Ticket:
    """The ticket open_ticket returned, with its tags and clocks as it wrote them: for the
    door's answer, which then reads nothing again."""
    _remember(ticket, **getattr(ticket, "_as_written", {}))
    return ticket


def _record_opening(ticket: Ticket, actor: User, now: Any) -> tuple[Any, list[Any]]:
    created = events.record(ticket, "created", actor=actor, after=snapshot(ticket))
    return created, sla_clocks.start(ticket, now)


def _next_ticket_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('desk_ticket', 'id'))")
        return int(cursor.fetchone()[0])


def _remember(ticket: Ticket, **related: list[Any]) -> None:
    """Fill the ticket's prefetch cache for `related` (many-valued relations) with what the
    action wrote, as prefetch_related would have read it."""
    cache = ticket.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in related.items():
        manager = getattr(ticket, name)
        queryset = manager.get_queryset()
        queryset._result_cache = list(rows)
        queryset._prefetch_done = True
        m2m_name = getattr(manager, "prefetch_cache_name", None)
        cache[m2m_name or manager.field.remote_field.cache_name] = queryset  # or reverse FK


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
                team=refs.team(actor, changes.pop("team", ticket.team_id)),
                assignee=refs.user(actor, changes.pop("assignee", ticket.assignee_id), "assignee"),
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
            changes["affected_ci"] = refs.config_item(actor, changes["affected_ci"])
        if changes:
            update_ticket(actor, ticket, **changes)


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
        locked(ticket, *RELATED)
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
    if priority is not None:
        _priority(priority)
    reason = (reason or "").strip()
    with transaction.atomic():
        locked(ticket, *RELATED)  # the matrix cell follows the impact and urgency of now
        matrix = workflow.priority_for(ticket.impact, ticket.urgency)
        if priority is None or _priority(priority) == matrix:
            new_priority, reason = matrix, ""
        else:
            new_priority = _priority(priority)
            if not reason:
                raise Invalid(
                    "Overriding the matrix's priority needs a reason.", field="priority_reason"
                )
        before = {**snapshot(ticket), "priority_reason": ticket.priority_reason}
        ticket.priority, ticket.priority_reason = new_priority, reason
        ticket.updated_at = timezone.now()
        save_changed(ticket, "updated_at")
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
        locked(ticket, *RELATED)
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
    for child in locked_all(
        parent.children.filter(status__in=OPEN_STATUSES).select_related(*RELATED)
    ):
        before = snapshot(child)
        child.status, child.resolved_at = Status.RESOLVED, timezone.now()
        _save(child, actor, "status_changed", before)
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
