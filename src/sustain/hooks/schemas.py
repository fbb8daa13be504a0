"""The JSON a webhook receiver gets: one envelope per event, documented in the API schema.

Every request is a POST with `Content-Type: application/json` and these headers:

- `X-Sustain-Event`: the event type (`ticket.created` …, or `ping`);
- `X-Sustain-Delivery`: the delivery's id (a UUID), the same on every retry of one event to
  one subscription — act on each id once;
- `X-Sustain-Timestamp`: when this attempt was sent, in Unix seconds;
- `X-Sustain-Signature`: `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>` keyed with
  the subscription's secret. Recompute it over the raw body, compare in constant time, and
  refuse timestamps more than a few minutes old (replays).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field


class PersonData(Schema):
    email: str | None = None
    name: str


class TicketData(Schema):
    key: str = Field(examples=["INC-1042"])
    url: str = Field(description="The ticket in the agent desk.")
    kind: str = Field(examples=["incident"])
    title: str
    status: str = Field(examples=["open"])
    priority: int = Field(ge=1, le=4)
    impact: int
    urgency: int
    organization: str = Field(description="The customer's slug.")
    requester: str | None = Field(None, description="E-mail address.")
    team: str | None = Field(None, description="Team slug.")
    assignee: str | None = Field(None, description="E-mail address.")
    channel: str
    affected_ci: int | None = None
    parent: str | None = Field(None, description="Key of the major incident.")
    tags: list[str] = []
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    closed_at: datetime | None = None


class Change(Schema):
    before: Any = None
    after: Any = None


class CommentData(Schema):
    id: int
    author: PersonData | None = None
    body: str
    is_public: bool
    channel: str
    created_at: datetime


class ClockData(Schema):
    metric: str = Field(examples=["first_response", "resolution"])
    state: str
    due_at: datetime | None = None
    warned_at: datetime | None = None
    breached_at: datetime | None = None


class EscalationData(Schema):
    rule: str
    level: int
    actions: list[str] = Field(description="What the level did, in words.")


class WebhookEvent(Schema):
    """The body of every webhook request: a POST with `Content-Type: application/json` and
    the headers `X-Sustain-Event` (the type), `X-Sustain-Delivery` (a UUID, the same on every
    retry of one event to one subscription: act on each once), `X-Sustain-Timestamp` (Unix
    seconds of this attempt) and `X-Sustain-Signature: sha256=<hex>`, the HMAC-SHA256 of
    `<timestamp>.<raw body>` keyed with the subscription's secret. Compare it in constant time
    and refuse timestamps more than five minutes old. Answer 2xx within the timeout (10 s);
    anything else is retried with exponential backoff."""

    id: str = Field(description="The event's id: the same for every subscription told of it.")
    type: str = Field(
        description="ticket.created, ticket.updated, ticket.status_changed, ticket.assigned, "
        "comment.created, sla.warning, sla.breached, ticket.escalated or ping."
    )
    created_at: datetime
    organization: str | None = Field(None, description="The customer's slug.")
    actor: PersonData | None = Field(None, description="Who did it (none for the SLA engine).")
    ticket: TicketData | None = None
    changes: dict[str, Change] | None = Field(
        None, description="ticket.updated / status_changed / assigned: the fields that changed."
    )
    comment: CommentData | None = Field(None, description="comment.created")
    sla: ClockData | None = Field(None, description="sla.warning and sla.breached")
    escalation: EscalationData | None = Field(None, description="ticket.escalated")
