"""Read side of the desk: the ticket lists behind queues, the API and the portal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from sustain.accounts.models import Organization
from sustain.core.errors import Invalid
from sustain.core.events import for_target
from sustain.core.filters import by_person, by_team, id_of, matching, param_list, parse_when
from sustain.core.models import Event
from sustain.core.pagination import paginate
from sustain.core.tenancy import customer_scope, visible
from sustain.desk.models import OPEN_STATUSES, Attachment, Comment, Kind, Priority, Status, Ticket

QUEUES = {
    "mine": "Assigned to me",
    "team": "My teams",
    "unassigned": "Unassigned",
    "breached": "SLA breached",
    "due_soon": "SLA due soon",
    "open": "All open",
    "all": "Everything",
}
# The SLA-first queues: tickets with an active clock past its due instant (breached), or past
# its warning point and not yet due (due soon), as Zammad's "escalated" and JSM's SLA queues.
# Both read the ticket's next-due columns (sla.clocks.next_due) through ticket_sla_due_idx.
SLA_QUEUES = ("breached", "due_soon")
ORDERS = {
    "newest": ("-id",),
    "oldest": ("id",),
    "priority": ("priority", "-id"),
    "updated": ("-updated_at", "-id"),
    # Nearest SLA due instant first (the most overdue at the top); then the tickets without an
    # active clock (paused, met, no policy), oldest first.
    "due": ("sla_due_at", "id"),
}
ORDER_LABELS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "priority": "Priority",
    "updated": "Recently updated",
    "due": "SLA due first",
}
# Orders whose first field may be empty: those rows come after the others (core.pagination).
NULLS_LAST = {"due"}


@dataclass
class TicketFilters:
    queue: str = ""
    status: list[str] = field(default_factory=list)
    priority: list[int] = field(default_factory=list)
    kind: str = ""
    organization: str = ""
    team: str = ""
    assignee: str = ""
    requester: str = ""
    tag: str = ""
    q: str = ""
    created_after: date | datetime | None = None
    created_before: date | datetime | None = None
    order: str = "newest"

    @classmethod
    def from_params(cls, params: Any) -> TicketFilters:
        """From a query string (web) or a ninja schema's dict (API); names the bad field."""
        get = params.get

        filters = cls(
            queue=get("queue") or "",
            kind=get("kind") or "",
            organization=get("organization") or "",
            team=get("team") or "",
            assignee=get("assignee") or "",
            requester=get("requester") or "",
            tag=get("tag") or "",
            q=(get("q") or "").strip(),
            order=get("order") or ("due" if get("queue") in SLA_QUEUES else "newest"),
            status=param_list(params, "status"),
        )
        if filters.queue and filters.queue not in QUEUES:
            raise Invalid(f"queue must be one of {', '.join(QUEUES)}.", field="queue")
        for status in filters.status:
            if status not in Status.values:
                raise Invalid(f"Unknown status '{status}'.", field="status")
        try:
            filters.priority = [int(p) for p in param_list(params, "priority")]
        except ValueError:
            raise Invalid("priority must be 1, 2, 3 or 4.", field="priority") from None
        if any(p not in Priority.values for p in filters.priority):
            raise Invalid("priority must be 1, 2, 3 or 4.", field="priority")
        if filters.kind and filters.kind not in Kind.values:
            raise Invalid("kind must be incident or request.", field="kind")
        if filters.order not in ORDERS:
            raise Invalid(f"order must be one of {', '.join(ORDERS)}.", field="order")
        for name in ("created_after", "created_before"):
            setattr(filters, name, parse_when(get(name), name))
        return filters


# The filters that are one field lookup each.
TICKET_LOOKUPS = {
    "status": "status__in",
    "priority": "priority__in",
    "kind": "kind",
    "tag": "tags__name",
    "created_after": "created_at__gte",
    "created_before": "created_at__lt",
}
QUEUE_SCOPES: dict[str, Callable[[QuerySet[Ticket], Any, datetime], QuerySet[Ticket]]] = {
    "mine": lambda qs, user, now: qs.filter(assignee=user),
    "team": lambda qs, user, now: qs.filter(team__in=user.teams.all()),
    "unassigned": lambda qs, user, now: qs.filter(assignee__isnull=True),
    "breached": lambda qs, user, now: qs.filter(sla_due_at__lte=now),
    "due_soon": lambda qs, user, now: qs.filter(sla_due_at__gt=now, sla_warn_at__lte=now),
    "open": lambda qs, user, now: qs,
}


def tickets_for(user: Any, filters: TicketFilters, now: datetime | None = None) -> QuerySet[Ticket]:
    """The tickets `user` may see that match `filters` (not yet ordered or paged); the SLA
    queues are taken at `now` (the present by default)."""
    qs = visible(Ticket.objects.all(), user)
    queue = QUEUE_SCOPES.get(filters.queue or "")
    if queue is not None:
        qs = queue(qs, user, now or timezone.now()).filter(status__in=OPEN_STATUSES)
    if filters.tag:
        filters = replace(filters, tag=filters.tag.lower())
    qs = matching(qs, filters, TICKET_LOOKUPS)
    # Slugs become ids in a scalar subquery (see core.filters.id_of).
    if filters.organization:
        qs = qs.filter(organization_id=id_of(Organization, slug=filters.organization))
    if filters.team:
        qs = by_team(qs, filters.team)
    if filters.assignee:
        qs = by_person(qs, "assignee", filters.assignee, user)
    if filters.requester:
        qs = by_person(qs, "requester", filters.requester, user)
    if filters.q:
        qs = Ticket.search_index.filter(qs, filters.q)
    return qs


def page(
    request: Any, qs: QuerySet[Ticket], filters: TicketFilters, limit: Any, cursor: str | None
) -> tuple[list[Ticket], str | None]:
    """One page of a ticket list in the order `filters` name, for every door that lists."""
    return paginate(
        request,
        with_list_relations(qs),
        order=ORDERS[filters.order],
        limit=limit,
        cursor=cursor,
        nulls_last=filters.order in NULLS_LAST,
    )


def with_list_relations(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """What a list row shows, fetched in a fixed number of queries whatever the page size.

    Only the organization is joined; the other relations come in one query each. Joined, a page
    of 51 rows built 300 model instances for a handful of distinct people and teams, and
    PostgreSQL spent 5 ms planning the seven-table join: more than the extra queries cost.
    """
    return qs.select_related("organization").prefetch_related(
        "team", "assignee", "requester", "affected_ci", "parent", "tags", "clocks"
    )


def ticket_for(user: Any, key: str) -> Ticket | None:
    """One ticket with what its page and the API show (prefetched as for lists: even for one
    row, PostgreSQL plans the seven-table join slower than it answers seven small queries)."""
    return with_list_relations(visible(Ticket.objects.all(), user)).filter(key=key.upper()).first()


def comments_of(user: Any, ticket: Ticket) -> QuerySet[Comment]:
    """The comments of `ticket` that `user` may read: those on it, and those a merge moved from
    it to the ticket it was merged into (its customer keeps the whole conversation)."""
    on_it = Comment.objects.filter(Q(ticket=ticket) | Q(merged_from=ticket))
    return visible(on_it, user)


def files_of(user: Any, ticket: Ticket) -> QuerySet[Attachment]:
    """The files attached to `ticket` itself (when it was opened, or later through the API), not
    to one of its comments; with those a merge moved from it."""
    on_it = Attachment.objects.filter(Q(ticket=ticket) | Q(merged_from=ticket), comment=None)
    return visible(on_it, user).select_related("merged_from").order_by("id")


def timeline(user: Any, ticket: Ticket) -> list[Any]:
    """Comments and events in order; customers see only the public ones."""
    comments = comments_of(user, ticket).select_related("author")
    attachments = visible(Attachment.objects.all(), user).order_by("id")
    comments = comments.prefetch_related(Prefetch("attachments", queryset=attachments))
    comments = comments.order_by("id")
    events: QuerySet[Event] = customer_scope(for_target(ticket).select_related("actor"), user)
    events = events.exclude(verb__in=("commented", "noted"))  # the comment itself is shown
    items: list[Any] = [*comments, *events]
    items.sort(key=lambda item: (item.created_at, item.pk))
    return items


# The sidebar counts up to this many tickets per queue and shows "999+" beyond: counting a
# backlog of 100,000 open tickets exactly would cost more than the rest of the page.
COUNT_CAP = 1000


def queue_counts(user: Any, now: datetime | None = None) -> dict[str, str]:
    """Open tickets in each of the user's queues, for the sidebar ("999+" past the cap).

    Each count is `SELECT count(*) FROM (SELECT … LIMIT 1000)`: it reads at most a thousand
    index entries, whatever the size of the queue (due soon: the clocks not yet due, in due
    order, until a thousand are found past their warning point).
    """
    now = now or timezone.now()
    base = visible(Ticket.objects.filter(status__in=OPEN_STATUSES), user).order_by()
    queues = {
        name: QUEUE_SCOPES[name](base, user, now)
        for name in ("mine", "team", "unassigned", *SLA_QUEUES)
    }
    counts = {name: qs.values("id")[:COUNT_CAP].count() for name, qs in queues.items()}
    return {
        name: f"{COUNT_CAP - 1}+" if count >= COUNT_CAP else str(count)
        for name, count in counts.items()
    }
