"""Opening a ticket, whichever door it came through: the checks, then one short write.

`check_open` runs every check and every read (the priority matrix, visibility, the parent, the
assignment); `_write_open` is the transaction, as short as the counter allows (on SQLite the
IMMEDIATE transaction holds the write lock from its first statement). The desk's actions
module re-exports `open_ticket`, where the doors call it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from sustain.accounts.models import Organization, Team, User
from sustain.bugs.similar import index as similar_index
from sustain.cmdb.models import ConfigItem
from sustain.core import attachments as files
from sustain.core import compiled, counters, events, tenancy
from sustain.core.errors import Forbidden, Invalid
from sustain.desk import notifications
from sustain.desk.common import (
    as_level,
    can_read,
    check_assignment,
    check_parent_owner,
    priority_over_matrix,
    snapshot,
    tags_named,
)
from sustain.desk.models import KEY_PREFIX, Attachment, Channel, Kind, Level, Ticket
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
    impact, urgency = as_level(fields["impact"], "impact"), as_level(fields["urgency"], "urgency")
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
    if parent is not None and not can_read(actor, parent):
        raise Invalid("No such parent ticket.", field="parent")
    if parent is not None:
        check_parent_owner(organization, parent)
    check_assignment(organization, team, assignee)
    priority, reason = priority_over_matrix(
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
        planned = sla_clocks.plan(ticket, now)  # sets the next-due columns the insert writes
        if early:
            ticket.pk = _next_ticket_id()
            created, clocks = _record_opening(ticket, actor, now, planned)
        ticket.key = f"{KEY_PREFIX[Kind(new.kind)]}-{counters.next_value(f'ticket:{new.kind}')}"
        compiled.insert(
            [ticket], signals=True
        )  # as save(force_insert=True), the statement built once
        if not early:
            created, clocks = _record_opening(ticket, actor, now, planned)
        similar_index.refresh(ticket, was_open=False)  # its words, for duplicate suggestions
        tags = tags_named(new.tags) if new.tags else []
        if tags:  # a new ticket has none yet: add, without reading which it has
            ticket.tags.add(*tags)
        if new.watchers:
            ticket.watchers.add(*new.watchers)
        for upload in new.uploads:
            files.store(
                Attachment,
                actor,
                ticket,
                upload,
                event_public=True,
                is_public=True,
                ticket=ticket,
                comment=None,
            )
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


def _record_opening(
    ticket: Ticket, actor: User, now: Any, planned: list[Any]
) -> tuple[Any, list[Any]]:
    created = events.record(ticket, "created", actor=actor, after=snapshot(ticket))
    return created, sla_clocks.start(ticket, now, planned)


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
