"""REST endpoints for bugs: list, report, change, workflow, duplicates, incidents, the backport
table, comments, attachments and the timeline. Customers read the bugs that hit them, in a
smaller shape, and write nothing."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from sustain.accounts import refs
from sustain.accounts.actions import require_agent
from sustain.bugs import actions, queries
from sustain.bugs import refs as bug_refs
from sustain.bugs.models import Bug, BugAttachment, BugComment, BugTicket
from sustain.bugs.schemas import (
    BugAttachmentOut,
    BugCommentIn,
    BugCommentOut,
    BugCreatedOut,
    BugCustomerOut,
    BugFromTicketIn,
    BugIn,
    BugLineIn,
    BugLineOut,
    BugListFilters,
    BugOut,
    BugPatch,
    BugTicketIn,
    BugTicketOut,
    BugTimelineItem,
    BugTransitionIn,
    DuplicateIn,
)
from sustain.cmdb import refs as cmdb_refs
from sustain.core.api import Page
from sustain.core.http import ApiRequest
from sustain.core.pagination import paginate
from sustain.core.tenancy import visible
from sustain.desk.queries import ticket_for

router = Router(tags=["bugs"])

AnyBug = BugOut | BugCustomerOut


def _bug(request: ApiRequest, key: str) -> Bug:
    bug = queries.bug_for(request.auth, key)
    if bug is None:
        raise Http404(f"No bug {key}.")
    return bug


class CustomerView:
    """What a customer's answer is made from: only the customer shape's attributes, so that the
    response can only ever validate as BugCustomerOut, never as the staff shape."""

    def __init__(self, bug: Bug):
        self.key, self.title, self.status = bug.key, bug.title, bug.status
        self.severity, self.product, self.lines = bug.severity, bug.product, bug.lines
        self.created_at, self.updated_at = bug.created_at, bug.updated_at


def _out(user: Any, bug: Bug) -> Any:
    """The staff shape or the customer's; the environment only for those who serve its owner."""
    if user.is_customer:
        return CustomerView(bug)
    bug.environment_shown = queries.environment_visible(user, bug)  # type: ignore[attr-defined]
    return bug


def _suggestions(actor: Any, bug: Bug) -> list[Any]:
    from sustain.bugs.similar import rank

    return list(rank.suggest(actor, title=bug.title, description=bug.description, exclude_bug=bug))


@router.get("/bugs", response=Page[AnyBug])
def list_bugs(request: ApiRequest, filters: Query[BugListFilters]):
    parsed = queries.BugFilters.from_params(filters.dict(exclude_none=True))
    qs = queries.with_list_relations(queries.bugs_for(request.auth, parsed))
    rows, next_url = paginate(
        request, qs, order=queries.ORDERS[parsed.order], limit=filters.limit, cursor=filters.cursor
    )
    return {"results": [_out(request.auth, bug) for bug in rows], "next": next_url}


@router.post("/bugs", response={201: BugCreatedOut})
def create_bug(request: ApiRequest, payload: BugIn):
    """Report a bug; the answer names the most similar open bugs and tickets (`similar`)."""
    actor = request.auth
    require_agent(actor)
    data = payload.dict()
    product = bug_refs.required_product(actor, data.pop("product"))
    team = refs.team(actor, data.pop("team"))
    assignee = refs.user(actor, data.pop("assignee"), "assignee")
    bug = actions.create_bug(
        actor,
        product=product,
        team=team,
        assignee=assignee,
        **bug_refs.fields(actor, data, product),
    )
    fresh = _bug(request, bug.key)
    fresh.similar = _suggestions(actor, fresh)  # type: ignore[attr-defined]
    return Status(201, _out(actor, fresh))


@router.get("/bugs/{bug_key}", response=AnyBug)
def get_bug(request: ApiRequest, bug_key: str):
    return _out(request.auth, _bug(request, bug_key))


@router.patch("/bugs/{bug_key}", response=BugOut)
def update_bug(request: ApiRequest, bug_key: str, payload: BugPatch):
    """Several changes in one request are applied together or not at all."""
    actor = request.auth
    require_agent(actor)
    bug = _bug(request, bug_key)
    actions.patch_bug(actor, bug, payload.dict(exclude_unset=True))
    return _out(actor, _bug(request, bug_key))


@router.post("/bugs/{bug_key}/transition", response=BugOut)
def transition(request: ApiRequest, bug_key: str, payload: BugTransitionIn):
    """Move along the workflow; 409 names from, to and the legal moves. Reopening may name the
    version where the bug came back (a regression of a verified or closed bug)."""
    require_agent(request.auth)
    bug = _bug(request, bug_key)
    version = cmdb_refs.version(request.auth, bug.product, payload.version, "version")
    actions.transition(request.auth, bug, payload.status, reason=payload.reason, version=version)
    return _out(request.auth, _bug(request, bug_key))


@router.post("/bugs/{bug_key}/duplicate", response=BugOut)
def mark_duplicate(request: ApiRequest, bug_key: str, payload: DuplicateIn):
    """Mark the bug a duplicate of `original`: its incidents are linked to the original too."""
    require_agent(request.auth)
    bug = _bug(request, bug_key)
    original = bug_refs.required_bug(request.auth, payload.original, "original")
    actions.mark_duplicate(request.auth, bug, original=original)
    return _out(request.auth, _bug(request, bug_key))


@router.get("/bugs/{bug_key}/comments", response=Page[BugCommentOut])
def list_comments(
    request: ApiRequest, bug_key: str, cursor: str | None = None, limit: int | None = None
):
    bug = _bug(request, bug_key)
    qs = visible(BugComment.objects.filter(bug=bug), request.auth).select_related("author")
    rows, next_url = paginate(request, qs, order=("id",), limit=limit, cursor=cursor)
    return {"results": rows, "next": next_url}


@router.post("/bugs/{bug_key}/comments", response={201: BugCommentOut})
def add_comment(request: ApiRequest, bug_key: str, payload: BugCommentIn):
    require_agent(request.auth)
    comment = actions.add_comment(
        request.auth, _bug(request, bug_key), payload.body, is_public=payload.is_public
    )
    return Status(201, comment)


@router.get("/bugs/{bug_key}/attachments", response=list[BugAttachmentOut])
def list_attachments(request: ApiRequest, bug_key: str):
    bug = _bug(request, bug_key)
    qs = visible(BugAttachment.objects.filter(bug=bug), request.auth)
    return list(qs.order_by("id")[:500])


@router.post("/bugs/{bug_key}/attachments", response={201: BugAttachmentOut})
def add_attachment(request: ApiRequest, bug_key: str, file: File[UploadedFile]):
    require_agent(request.auth)
    attachment = actions.add_attachment(
        request.auth, _bug(request, bug_key), file.name or "attachment", file.read()
    )
    return Status(201, attachment)


@router.get("/bugs/{bug_key}/tickets", response=list[BugTicketOut])
def list_tickets(request: ApiRequest, bug_key: str):
    """The incidents the bug caused that the reader may see."""
    bug = _bug(request, bug_key)
    return list(queries.ticket_links(request.auth, bug)[:500])


@router.post("/bugs/{bug_key}/tickets", response={201: BugTicketOut})
def link_ticket(request: ApiRequest, bug_key: str, payload: BugTicketIn):
    require_agent(request.auth)
    bug = _bug(request, bug_key)
    ticket = bug_refs.required_ticket(request.auth, payload.ticket)
    link = actions.link_ticket(request.auth, bug, ticket)
    return Status(201, BugTicket.objects.select_related("ticket__organization").get(pk=link.pk))


@router.delete("/bugs/{bug_key}/tickets/{ticket_key}", response=list[BugTicketOut])
def unlink_ticket(request: ApiRequest, bug_key: str, ticket_key: str):
    require_agent(request.auth)
    bug = _bug(request, bug_key)
    ticket = ticket_for(request.auth, ticket_key)
    if ticket is None:
        raise Http404(f"No ticket {ticket_key}.")
    actions.unlink_ticket(request.auth, bug, ticket)
    return list_tickets(request, bug_key)


@router.get("/bugs/{bug_key}/lines", response=list[BugLineOut])
def list_lines(request: ApiRequest, bug_key: str):
    """The backport table: the bug on each release line (staff)."""
    bug = _bug(request, bug_key)
    return list(
        visible(bug.lines.all(), request.auth).select_related(
            "introduced_in", "planned_version", "fixed_version", "fixed_by"
        )
    )


@router.put("/bugs/{bug_key}/lines", response=list[BugLineOut])
def set_line(request: ApiRequest, bug_key: str, payload: BugLineIn):
    """Set the bug's status on one release line (created when missing)."""
    require_agent(request.auth)
    bug = _bug(request, bug_key)
    product = bug.product
    actions.set_line_status(
        request.auth,
        bug,
        major=payload.major,
        minor=payload.minor,
        status=payload.status,
        planned_version=cmdb_refs.version(
            request.auth, product, payload.planned_version, "planned_version"
        ),
        fixed_version=cmdb_refs.version(
            request.auth, product, payload.fixed_version, "fixed_version"
        ),
        introduced_in=cmdb_refs.version(
            request.auth, product, payload.introduced_in, "introduced_in"
        ),
    )
    return list_lines(request, bug_key)


@router.get("/bugs/{bug_key}/timeline", response=Page[BugTimelineItem])
def timeline(
    request: ApiRequest, bug_key: str, cursor: str | None = None, limit: int | None = None
):
    """Events oldest first; a comment's event carries its text (customers: public only)."""
    bug = _bug(request, bug_key)
    rows, next_url = paginate(
        request, queries.events_for(request.auth, bug), order=("id",), limit=limit, cursor=cursor
    )
    comment_ids = [e.after.get("comment") for e in rows if e.verb in ("commented", "noted")]
    bodies = dict(
        visible(BugComment.objects.filter(bug=bug, pk__in=comment_ids), request.auth).values_list(
            "pk", "body"
        )
    )
    items = [
        {
            "kind": "comment" if e.verb in ("commented", "noted") else "event",
            "id": e.pk,
            "verb": e.verb,
            "actor": e.actor.email if e.actor else None,
            "body": bodies.get(e.after.get("comment")),
            "before": e.before,
            "after": e.after,
            "is_public": e.is_public,
            "created_at": e.created_at,
        }
        for e in rows
    ]
    return {"results": items, "next": next_url}


# --- from the ticket's side --------------------------------------------------------------
@router.post("/tickets/{key}/bug", response={201: BugOut})
def create_from_ticket(request: ApiRequest, key: str, payload: BugFromTicketIn):
    """A bug from an incident: title, description, environment and version carried over."""
    actor = request.auth
    require_agent(actor)
    ticket = ticket_for(actor, key)
    if ticket is None:
        raise Http404(f"No ticket {key}.")
    data = payload.dict(exclude_none=True)
    product = cmdb_refs.product(actor, data.pop("product", None))
    if "team" in data:
        data["team"] = refs.team(actor, data["team"])
    if "assignee" in data:
        data["assignee"] = refs.user(actor, data["assignee"], "assignee")
    bug = actions.create_bug_from_ticket(actor, ticket, product=product, **data)
    return Status(201, _out(actor, _bug(request, bug.key)))


@router.get("/tickets/{key}/bugs", response=list[AnyBug])
def ticket_bugs(request: ApiRequest, key: str):
    """The bugs behind a ticket (customers: in their shape)."""
    ticket = ticket_for(request.auth, key)
    if ticket is None:
        raise Http404(f"No ticket {key}.")
    qs = visible(Bug.objects.filter(ticket_links__ticket=ticket), request.auth)
    rows = queries.with_list_relations(qs).order_by("-id")[:200]
    return [_out(request.auth, bug) for bug in rows]
