"""API shapes of tickets and what hangs beneath them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from ninja import Schema
from pydantic import Field

from sustain.bugs.similar.schemas import SimilarOut
from sustain.core.api import DateOrDateTime, Id, Input, Patch
from sustain.core.text import render_markdown
from sustain.desk.models import TEXT_MAX, Channel, Kind, Status, TicketLink


class ClockOut(Schema):
    metric: str
    state: str
    due_at: datetime | None
    elapsed_business_seconds: int
    target_seconds: int
    breached_at: datetime | None
    met_at: datetime | None

    @staticmethod
    def resolve_elapsed_business_seconds(clock: Any) -> int:
        return round(clock.elapsed_seconds)


class TicketOut(Schema):
    key: str
    kind: str
    title: str
    description: str
    description_html: str
    organization: str = Field(alias="organization.slug")
    requester: str | None = Field(None, alias="requester.email")
    affected_ci: int | None = Field(None, alias="affected_ci_id")
    impact: int
    urgency: int
    priority: int
    priority_reason: str
    status: str
    channel: str
    team: str | None = Field(None, alias="team.slug")
    assignee: str | None = Field(None, alias="assignee.email")
    parent: str | None = Field(None, alias="parent.key")
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    sla_due_at: datetime | None = Field(
        None, description="The nearest due time of the active SLA clocks (order=due sorts by it)."
    )
    url: str
    sla: list[ClockOut]

    @staticmethod
    def resolve_sla(ticket: Any) -> list[Any]:
        order = {"first_response": 0, "next_update": 1, "resolution": 2}
        return sorted(ticket.clocks.all(), key=lambda clock: order[clock.metric])

    @staticmethod
    def resolve_description_html(ticket: Any) -> str:
        return render_markdown(ticket.description)

    @staticmethod
    def resolve_tags(ticket: Any) -> list[str]:
        return [t.name for t in ticket.tags.all()]

    @staticmethod
    def resolve_url(ticket: Any) -> str:
        return reverse("desk:ticket", args=[ticket.key])


class TicketCreatedOut(TicketOut):
    """The new ticket, and the open tickets and bugs that look like it (possible duplicates)."""

    similar: list[SimilarOut] = []


class TicketIn(Input):
    title: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=TEXT_MAX)
    kind: Kind = Kind.INCIDENT
    organization: int | str | None = None
    requester: str | None = Field(None, description="E-mail address or id of the requester.")
    affected_ci: Id | None = None
    impact: int = Field(2, ge=1, le=3)
    urgency: int = Field(2, ge=1, le=3)
    priority: int | None = Field(None, ge=1, le=4, description="Override of the matrix.")
    priority_reason: str = Field("", max_length=300)
    channel: Channel = Channel.API
    team: str | None = None
    assignee: str | None = None
    tags: list[str] = Field([], max_length=30)
    watchers: list[str] = Field([], max_length=50)
    parent: str | None = None


class TicketPatch(Patch):
    clearable = frozenset(
        {"affected_ci", "assignee", "parent", "priority", "priority_reason", "team"}
    )

    title: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = Field(None, max_length=TEXT_MAX)
    impact: int | None = Field(None, ge=1, le=3)
    urgency: int | None = Field(None, ge=1, le=3)
    affected_ci: Id | None = None
    tags: list[str] | None = Field(None, max_length=30)
    team: str | None = None
    assignee: str | None = None
    priority: int | None = Field(None, ge=1, le=4)
    priority_reason: str | None = Field(None, max_length=300)
    parent: str | None = None


class TicketListFilters(Schema):
    queue: str | None = Field(
        None,
        description="mine, team, unassigned, breached (an active SLA clock past its due time),"
        " due_soon (past its warning point, not yet due), open or all.",
    )
    status: str | None = Field(None, description="One or more statuses, comma-separated.")
    priority: str | None = Field(None, description="One or more of 1-4, comma-separated.")
    kind: Kind | None = None
    organization: str | None = None
    team: str | None = None
    assignee: str | None = Field(None, description="E-mail, id, 'me' or 'none'.")
    requester: str | None = None
    tag: str | None = None
    q: str | None = Field(None, max_length=200, description="Full-text search.")
    created_after: DateOrDateTime | None = None
    created_before: DateOrDateTime | None = None
    order: str | None = Field(
        None,
        description="newest, oldest, priority, updated or due (nearest SLA due time first,"
        " tickets without an active clock last); due for queue=breached and due_soon,"
        " otherwise newest, when not given.",
    )
    cursor: str | None = None
    limit: int | None = Field(None, ge=1, le=200)


class CommentOut(Schema):
    id: int
    author: str | None = Field(None, alias="author.email")
    body: str
    body_html: str
    is_public: bool
    channel: str
    created_at: datetime
    attachments: list[int]

    @staticmethod
    def resolve_body_html(comment: Any) -> str:
        return render_markdown(comment.body)

    @staticmethod
    def resolve_attachments(comment: Any) -> list[int]:
        return [a.pk for a in comment.attachments.all()]


class CommentIn(Input):
    body: str = Field(min_length=1, max_length=TEXT_MAX)
    is_public: bool = True


class EventOut(Schema):
    id: int
    verb: str
    actor: str | None = Field(None, alias="actor.email")
    before: dict[str, Any]
    after: dict[str, Any]
    is_public: bool
    request_id: str
    created_at: datetime


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    is_public: bool
    comment: int | None = Field(None, alias="comment_id")
    created_at: datetime
    download_url: str

    @staticmethod
    def resolve_download_url(attachment: Any) -> str:
        return reverse("desk:attachment", args=[attachment.pk])


class TransitionIn(Input):
    status: Status
    reason: str = Field("", max_length=10_000)


class LinkIn(Input):
    target: str = Field(min_length=1, max_length=20, description="The other ticket's key.")
    kind: TicketLink.Kind = TicketLink.Kind.RELATED


class LinkOut(Schema):
    id: int
    source: str = Field(alias="source.key")
    target: str = Field(alias="target.key")
    kind: str
    created_at: datetime


class WatcherIn(Input):
    user: str | None = Field(None, description="E-mail or id; yourself when omitted.")


class MatrixCell(Input):
    impact: int = Field(ge=1, le=3)
    urgency: int = Field(ge=1, le=3)
    priority: int = Field(ge=1, le=4)


class MatrixCellOut(Schema):
    impact: int
    urgency: int
    priority: int
