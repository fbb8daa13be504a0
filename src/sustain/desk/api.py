"""REST endpoints for tickets and their comments, events, attachments, transitions and links."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from sustain.accounts import refs as account_refs
from sustain.accounts.actions import resolve_organization
from sustain.bugs.similar.rank import suggest
from sustain.cmdb import refs as cmdb_refs
from sustain.core.api import Page
from sustain.core.events import for_target
from sustain.core.http import ApiRequest
from sustain.core.pagination import paginate
from sustain.core.tenancy import customer_scope, visible
from sustain.desk import actions, queries, refs
from sustain.desk.models import Attachment, PriorityRule, Ticket, TicketLink
from sustain.desk.schemas import (
    AttachmentOut,
    CommentIn,
    CommentOut,
    EventOut,
    LinkIn,
    LinkOut,
    MatrixCell,
    MatrixCellOut,
    TicketCreatedOut,
    TicketIn,
    TicketListFilters,
    TicketOut,
    TicketPatch,
    TransitionIn,
    WatcherIn,
)

router = Router(tags=["tickets"])


def _ticket(request: ApiRequest, key: str) -> Ticket:
    ticket = queries.ticket_for(request.auth, key)
    if ticket is None:
        raise Http404(f"No ticket {key}.")
    return ticket


@router.get("/tickets", response=Page[TicketOut])
def list_tickets(request: ApiRequest, filters: Query[TicketListFilters]):
    parsed = queries.TicketFilters.from_params(filters.dict(exclude_none=True))
    qs = queries.tickets_for(request.auth, parsed)
    rows, next_url = queries.page(request, qs, parsed, limit=filters.limit, cursor=filters.cursor)
    return {"results": rows, "next": next_url}


@router.post("/tickets", response={201: TicketCreatedOut})
def create_ticket(request: ApiRequest, payload: TicketIn):
    """Opens a ticket; `similar` lists the open tickets and bugs most like it (the requester's
    own view for a customer), for the caller to mark a duplicate."""
    actor = request.auth
    data = payload.dict()
    organization = data.pop("organization")
    ticket = actions.open_ticket(
        actor,
        chosen=payload.model_fields_set,
        **data
        | {
            "organization": resolve_organization(organization) if organization else None,
            "requester": account_refs.user(actor, data["requester"], "requester"),
            "affected_ci": cmdb_refs.config_item(actor, data["affected_ci"]),
            "team": account_refs.team(actor, data["team"]),
            "assignee": account_refs.user(actor, data["assignee"], "assignee"),
            "watchers": [
                account_refs.required_user(actor, w, "watchers") for w in data["watchers"]
            ],
            "parent": refs.ticket(actor, data["parent"], "parent"),
        },
    )
    # Answered from what open_ticket wrote (its relations and clocks in hand), not read again;
    # the duplicate suggestions are read after its transaction.
    ticket.similar = suggest(  # type: ignore[attr-defined]
        actor, title=ticket.title, description=ticket.description, exclude_ticket=ticket
    )
    return Status(201, actions.as_written(ticket))


@router.get("/tickets/{key}", response=TicketOut)
def get_ticket(request: ApiRequest, key: str):
    return _ticket(request, key)


@router.patch("/tickets/{key}", response=TicketOut)
def update_ticket(request: ApiRequest, key: str, payload: TicketPatch):
    """Several changes in one request are applied together or not at all."""
    actor, ticket = request.auth, _ticket(request, key)
    actions.patch_ticket(actor, ticket, payload.dict(exclude_unset=True))
    return _ticket(request, key)


@router.post("/tickets/{key}/transitions", response=TicketOut)
def transition(request: ApiRequest, key: str, payload: TransitionIn):
    actions.transition(request.auth, _ticket(request, key), payload.status, reason=payload.reason)
    return _ticket(request, key)


@router.get("/tickets/{key}/comments", response=Page[CommentOut])
def list_comments(
    request: ApiRequest, key: str, cursor: str | None = None, limit: int | None = None
):
    ticket = _ticket(request, key)
    qs = queries.comments_of(request.auth, ticket).select_related("author")
    rows, next_url = paginate(
        request, qs.prefetch_related("attachments"), order=("id",), limit=limit, cursor=cursor
    )
    return {"results": rows, "next": next_url}


@router.post("/tickets/{key}/comments", response={201: CommentOut})
def add_comment(request: ApiRequest, key: str, payload: CommentIn):
    return Status(
        201,
        actions.add_comment(
            request.auth,
            _ticket(request, key),
            payload.body,
            is_public=payload.is_public,
            channel="api",
        ),
    )


@router.get("/tickets/{key}/events", response=Page[EventOut])
def list_events(request: ApiRequest, key: str, cursor: str | None = None, limit: int | None = None):
    ticket = _ticket(request, key)
    qs = customer_scope(for_target(ticket).select_related("actor"), request.auth)
    rows, next_url = paginate(request, qs, order=("id",), limit=limit, cursor=cursor)
    return {"results": rows, "next": next_url}


@router.get("/tickets/{key}/attachments", response=list[AttachmentOut])
def list_attachments(request: ApiRequest, key: str):
    ticket = _ticket(request, key)
    return list(
        visible(
            Attachment.objects.filter(Q(ticket=ticket) | Q(merged_from=ticket)), request.auth
        ).order_by("id")[:500]
    )


@router.post("/tickets/{key}/attachments", response={201: AttachmentOut})
def add_attachment(
    request: ApiRequest, key: str, file: File[UploadedFile], is_public: Form[bool] = True
):
    return Status(
        201,
        actions.add_attachment(
            request.auth,
            _ticket(request, key),
            file.name or "attachment",
            file.read(),
            is_public=is_public,
        ),
    )


@router.get("/tickets/{key}/links", response=list[LinkOut])
def list_links(request: ApiRequest, key: str):
    ticket = _ticket(request, key)
    qs = visible(TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket)), request.auth)
    return list(qs.select_related("source", "target").order_by("id")[:500])


@router.post("/tickets/{key}/links", response={201: LinkOut})
def add_link(request: ApiRequest, key: str, payload: LinkIn):
    actor, ticket = request.auth, _ticket(request, key)
    other = refs.required_ticket(actor, payload.target, "target")
    return Status(201, actions.link(actor, ticket, other, payload.kind))


@router.get("/tickets/{key}/watchers", response=list[str])
def list_watchers(request: ApiRequest, key: str):
    ticket = _ticket(request, key)
    return [u.email for u in visible(ticket.watchers.all(), request.auth).order_by("email")]


@router.post("/tickets/{key}/watchers", response={201: list[str]})
def add_watcher(request: ApiRequest, key: str, payload: WatcherIn):
    """Watch a ticket yourself (no `user`), or, as an agent, add someone."""
    ticket = _ticket(request, key)
    user = account_refs.user(request.auth, payload.user, "user") if payload.user else None
    actions.watch(request.auth, ticket, user, on=True)
    return Status(201, list_watchers(request, key))


@router.delete("/tickets/{key}/watchers/{email}", response=list[str])
def remove_watcher(request: ApiRequest, key: str, email: str):
    ticket = _ticket(request, key)
    user = account_refs.user(request.auth, email, "email")
    actions.watch(request.auth, ticket, user, on=False)
    return list_watchers(request, key)


@router.get("/priority-matrix", response=list[MatrixCellOut], tags=["settings"])
def priority_matrix(request: ApiRequest):
    """Impact × urgency → priority (1 high … 3 low; P1 … P4)."""
    return list(PriorityRule.objects.order_by("impact", "urgency"))


@router.put("/priority-matrix", response=list[MatrixCellOut], tags=["settings"])
def set_priority_matrix(request: ApiRequest, payload: list[MatrixCell]):
    actions.set_priority_matrix(request.auth, [(c.impact, c.urgency, c.priority) for c in payload])
    return priority_matrix(request)
