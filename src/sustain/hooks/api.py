"""REST endpoints for webhook subscriptions and their delivery log (agents only).

Each event is POSTed as JSON (the `WebhookEvent` schema) with the headers `X-Sustain-Event`,
`X-Sustain-Delivery` (the same id on every retry: act on each once), `X-Sustain-Timestamp`
(Unix seconds) and `X-Sustain-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`
keyed with the subscription's secret. Any 2xx answer within the timeout is a success; anything
else is retried with exponential backoff, and a subscription that fails 10 times in a row is
disabled and its owner told.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from pydantic import Field, ValidationInfo, field_validator

from sustain.accounts.actions import resolve_organization
from sustain.core.api import Id, Input, Page
from sustain.core.http import ApiRequest
from sustain.core.pagination import paginate
from sustain.core.tenancy import visible
from sustain.hooks import actions
from sustain.hooks.models import Delivery, EventType, Subscription
from sustain.hooks.schemas import WebhookEvent

router = Router(tags=["webhooks"])

EVENTS_FIELD: dict[str, Any] = {
    "description": "Event types to send; empty: all of them.",
    "items": {"type": "string", "enum": EventType.values},
}


class SubscriptionIn(Input):
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(max_length=500, examples=["https://hooks.example.com/sustain"])
    events: list[str] = Field(default_factory=list, json_schema_extra=EVENTS_FIELD)
    organization: int | str | None = Field(
        None, description="Only this customer's events (id or slug); empty: every customer's."
    )
    include_internal: bool = Field(False, description="Staff-level: internal notes too.")
    secret: str | None = Field(
        None,
        min_length=16,
        max_length=128,
        description="The signing secret; left out, one is generated and answered once.",
    )
    active: bool = True


class SubscriptionPatch(Input):
    """Only the fields sent change; organization null means every customer's events."""

    name: str | None = Field(None, min_length=1, max_length=100)
    url: str | None = Field(None, max_length=500)
    events: list[str] | None = Field(None, json_schema_extra=EVENTS_FIELD)
    organization: int | str | None = None
    include_internal: bool | None = None
    active: bool | None = Field(None, description="true enables a disabled subscription again.")

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_for_organization(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name != "organization":
            raise ValueError("may not be null; leave the field out to keep its value")
        return value


class SecretIn(Input):
    secret: str | None = Field(None, min_length=16, max_length=128)


class SubscriptionOut(Schema):
    id: int
    name: str
    url: str
    events: list[str]
    organization: str | None = Field(None, alias="organization.slug")
    include_internal: bool
    active: bool
    owner: str | None = Field(None, alias="owner.email")
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str
    created_at: datetime
    updated_at: datetime


class SubscriptionWithSecretOut(SubscriptionOut):
    secret: str = Field(description="Shown only here: keep it in the receiver.")


class SecretOut(Schema):
    secret: str


class PingOut(Schema):
    delivery: UUID = Field(description="The X-Sustain-Delivery of the ping.")


class DeliveryOut(Schema):
    id: int
    delivery_id: UUID = Field(description="X-Sustain-Delivery: the same on every attempt.")
    event: str
    attempt: int
    created_at: datetime
    status_code: int | None
    ok: bool
    duration_ms: int
    error: str


class DeliveryDetailOut(DeliveryOut):
    payload: WebhookEvent | None = Field(None, description="The body that was sent.")
    response_excerpt: str = Field(
        description="The start of a failed answer (up to 256 bytes); empty for a success."
    )

    @staticmethod
    def resolve_payload(delivery: Delivery) -> Any:
        try:
            return WebhookEvent.model_validate(json.loads(delivery.request_body))
        except ValueError:  # not JSON, or not the schema (pydantic's error is a ValueError)
            return None


def _subscriptions(request: ApiRequest):
    return visible(Subscription.objects.select_related("organization", "owner"), request.auth)


def _subscription(request: ApiRequest, subscription_id: Id) -> Subscription:
    return get_object_or_404(_subscriptions(request), pk=subscription_id)


def _organization(ref: int | str | None):
    return resolve_organization(ref) if ref not in (None, "") else None


@router.get("/webhooks", response=Page[SubscriptionOut])
def list_subscriptions(
    request: ApiRequest,
    organization: str | None = None,
    active: bool | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    """The subscriptions of the customers you serve (none for customers)."""
    rows = _subscriptions(request)
    if organization:
        rows = rows.filter(organization__slug=organization)
    if active is not None:
        rows = rows.filter(active=active)
    found, next_url = paginate(request, rows, order=("id",), limit=limit, cursor=cursor)
    return {"results": found, "next": next_url}


@router.post("/webhooks", response={201: SubscriptionWithSecretOut})
def create_subscription(request: ApiRequest, payload: SubscriptionIn):
    """Subscribe a URL to events; the answer carries the signing secret, once."""
    actions.check_manager(request.auth)
    subscription, _secret = actions.create_subscription(
        request.auth,
        name=payload.name,
        url=payload.url,
        events=payload.events,
        organization=_organization(payload.organization),
        include_internal=payload.include_internal,
        secret=payload.secret or "",
        active=payload.active,
    )
    return Status(201, _subscription(request, subscription.pk))


@router.get("/webhooks/{subscription_id}", response=SubscriptionOut)
def get_subscription(request: ApiRequest, subscription_id: Id):
    return _subscription(request, subscription_id)


@router.patch("/webhooks/{subscription_id}", response=SubscriptionOut)
def update_subscription(request: ApiRequest, subscription_id: Id, payload: SubscriptionPatch):
    subscription = _subscription(request, subscription_id)
    changes = payload.dict(exclude_unset=True)
    if "organization" in changes:
        changes["organization"] = _organization(changes["organization"])
    actions.update_subscription(request.auth, subscription, **changes)
    return _subscription(request, subscription_id)


@router.delete("/webhooks/{subscription_id}", response={204: None})
def delete_subscription(request: ApiRequest, subscription_id: Id):
    actions.delete_subscription(request.auth, _subscription(request, subscription_id))
    return Status(204, None)


@router.post("/webhooks/{subscription_id}/secret", response=SecretOut)
def rotate_secret(request: ApiRequest, subscription_id: Id, payload: SecretIn):
    """A new signing secret (the one sent, or a generated one), answered once."""
    subscription = _subscription(request, subscription_id)
    return {"secret": actions.rotate_secret(request.auth, subscription, payload.secret or "")}


@router.post("/webhooks/{subscription_id}/ping", response={202: PingOut})
def ping(request: ApiRequest, subscription_id: Id):
    """Send a `ping` event now, to try the receiver; see it in the delivery log."""
    delivery = actions.ping(request.auth, _subscription(request, subscription_id))
    return Status(202, {"delivery": delivery})


@router.get("/webhooks/{subscription_id}/deliveries", response=Page[DeliveryOut])
def list_deliveries(
    request: ApiRequest,
    subscription_id: Id,
    event: str | None = None,
    failed: bool | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    """Every attempt, newest first: status code, duration, error."""
    subscription = _subscription(request, subscription_id)
    rows = visible(Delivery.objects.filter(subscription=subscription), request.auth)
    if event:
        rows = rows.filter(event=event)
    if failed is not None:
        rows = rows.filter(ok=not failed)
    found, next_url = paginate(request, rows, order=("-id",), limit=limit, cursor=cursor)
    return {"results": found, "next": next_url}


@router.get("/webhooks/{subscription_id}/deliveries/{delivery_id}", response=DeliveryDetailOut)
def get_delivery(request: ApiRequest, subscription_id: Id, delivery_id: Id):
    """One attempt with the body sent and the start of a failed answer."""
    subscription = _subscription(request, subscription_id)
    rows = visible(Delivery.objects.filter(subscription=subscription), request.auth)
    return get_object_or_404(rows, pk=delivery_id)
