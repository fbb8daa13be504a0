"""Webhook subscriptions (agents manage them) and the events they are told of.

Events are written as outbox messages of kind "webhook" in the transaction of the change that
caused them, one per subscription, under a delivery key (`webhook:<subscription>:<event id>`):
an event is queued once per subscription however often its action is retried, and its
`X-Sustain-Delivery` id stays the same on every delivery attempt, so a receiver that remembers
the ids it has acted on acts on each event once.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from sustain.accounts.models import Organization, User
from sustain.core import events, outbound, outbox, tenancy
from sustain.core.compiled import Prepared
from sustain.core.errors import Conflict, Forbidden, Invalid, refuse_unknown
from sustain.hooks.models import PING, EventType, Subscription

NAME_MAX = 100
URL_MAX = 500
SECRET_MIN, SECRET_MAX = 16, 128


# --- checks -----------------------------------------------------------------------------------
def check_url(url: Any) -> str:
    """An absolute http(s) URL with a host and no credentials in it, to an address the
    outbound guard allows."""
    url = str(url or "").strip()
    if not url:
        raise Invalid("A URL is required.", field="url")
    if len(url) > URL_MAX:
        raise Invalid(f"The URL is longer than {URL_MAX} characters.", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number
    except ValueError:
        raise Invalid("The URL is not valid.", field="url") from None
    if parts.scheme not in ("http", "https"):
        raise Invalid("The URL must start with https:// or http://.", field="url")
    if not parts.hostname:
        raise Invalid("The URL needs a host name.", field="url")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise Invalid(
            "Put no user name or password in the URL: receivers check the signature.",
            field="url",
        )
    if any(c.isspace() for c in url) or (port is not None and not 0 < port < 65536):
        raise Invalid("The URL is not valid.", field="url")
    _check_target(url)
    return url


def _check_target(url: str) -> None:
    """The outbound guard's verdict on the URL as it resolves now (it judges every delivery
    again, on the address it connects to)."""
    try:
        outbound.check_target(url)
    except outbound.OutboundError as exc:
        if exc.kind is outbound.Kind.NOT_ALLOWED:
            raise Invalid(
                f"Webhooks may not reach this address ({exc.reason}): only public addresses, "
                "and networks an administrator allows (SUSTAIN_OUTBOUND_ALLOW_NETWORKS).",
                field="url",
            ) from None
        detail = f": {exc.reason}" if exc.reason else ""
        raise Invalid(f"The URL is not valid{detail}.", field="url") from None


def check_events(values: Any) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise Invalid("events must be a list of event types.", field="events")
    chosen = []
    for value in values:
        if value not in EventType.values:
            raise Invalid(
                f"Unknown event type '{value}' (known: {', '.join(EventType.values)}).",
                field="events",
            )
        if value not in chosen:
            chosen.append(value)
    return chosen


def check_secret(secret: Any) -> str:
    secret = str(secret or "")
    if not secret:
        return secrets.token_urlsafe(32)
    if not SECRET_MIN <= len(secret) <= SECRET_MAX or any(c.isspace() for c in secret):
        raise Invalid(
            f"The secret must have {SECRET_MIN} to {SECRET_MAX} characters and no spaces.",
            field="secret",
        )
    return secret


def _check_name(name: Any) -> str:
    name = str(name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise Invalid(f"The name must have 1 to {NAME_MAX} characters.", field="name")
    return name


def _check_scope(actor: User, organization: Organization | None) -> None:
    """One customer's events for those who serve it; everyone's only for those who serve all."""
    if organization is None:
        if tenancy.served_organization_ids(actor) is not None:
            raise Invalid(
                "You serve only some customers: choose the organization whose events to send.",
                field="organization",
            )
    elif not tenancy.can_see_organization(actor, organization.pk):
        raise Invalid(f"You do not serve {organization.name}.", field="organization")


def check_manager(actor: User, subscription: Subscription | None = None) -> None:
    """Agents manage webhooks (of the customers they serve); customers do not."""
    if not actor.is_agent:
        raise Forbidden("Only agents may manage webhooks.")
    if subscription is not None and not visible_to(actor).filter(pk=subscription.pk).exists():
        raise Forbidden("You do not serve this subscription's organization.")


def visible_to(actor: User) -> QuerySet[Subscription]:
    return tenancy.visible(Subscription.objects.all(), actor)


def _audit(subscription: Subscription) -> dict[str, Any]:
    """What an event shows of a subscription (never its secret)."""
    return {
        "name": subscription.name,
        "url": subscription.url,
        "events": list(subscription.events),
        "organization": subscription.organization.slug if subscription.organization else None,
        "include_internal": subscription.include_internal,
        "active": subscription.active,
    }


# --- management -------------------------------------------------------------------------------
def create_subscription(
    actor: User,
    *,
    name: str,
    url: str,
    events: Iterable[str] | None = None,
    organization: Organization | None = None,
    include_internal: bool = False,
    secret: str = "",
    active: bool = True,
) -> tuple[Subscription, str]:
    """A new subscription and its secret (shown to its creator once)."""
    check_manager(actor)
    fields = {
        "name": _check_name(name),
        "url": check_url(url),
        "events": check_events(events),
        "organization": organization,
        "include_internal": bool(include_internal),
        "secret": check_secret(secret),
        "active": bool(active),
    }
    _check_scope(actor, organization)
    with transaction.atomic():
        subscription = Subscription.objects.create(owner=actor, **fields)
        events_log(subscription, "created", actor, after=_audit(subscription))
    return subscription, subscription.secret


def events_log(subscription: Subscription, verb: str, actor: Any, **changes: Any) -> None:
    events.record(
        subscription,
        verb,
        actor=actor,
        is_public=False,
        organization_id=subscription.organization_id,
        **changes,
    )


def update_subscription(actor: User, subscription: Subscription, **changes: Any) -> Subscription:
    """Change name, URL, events, organization, staff level or active; enabling a disabled
    subscription checks its URL with the outbound guard again and starts its failure count
    again."""
    allowed = {"name", "url", "events", "organization", "include_internal", "active"}
    refuse_unknown(changes, allowed)
    check_manager(actor, subscription)
    if "name" in changes:
        changes["name"] = _check_name(changes["name"])
    if "url" in changes:
        changes["url"] = check_url(changes["url"])
    if "events" in changes:
        changes["events"] = check_events(changes["events"])
    if "organization" in changes:
        _check_scope(actor, changes["organization"])
    for flag in ("include_internal", "active"):
        if flag in changes:
            if changes[flag] is None:
                raise Invalid(f"{flag} must be true or false.", field=flag)
            changes[flag] = bool(changes[flag])
    if changes.get("active") is True and not subscription.active and "url" not in changes:
        # The stored URL may predate the guard (an old row, a hand edit) or resolve elsewhere
        # now: enabling checks it as a new URL would be.
        check_url(subscription.url)
    with transaction.atomic():
        before = _audit(subscription)
        enabling = changes.get("active") is True and not subscription.active
        for key, value in changes.items():
            setattr(subscription, key, value)
        if enabling:
            subscription.consecutive_failures = 0
            subscription.disabled_at = None
            subscription.disabled_reason = ""
        subscription.updated_at = timezone.now()
        subscription.save()
        old, new = events.changes(before, _audit(subscription))
        if new:
            events_log(subscription, "updated", actor, before=old, after=new)
    return subscription


def rotate_secret(actor: User, subscription: Subscription, secret: str = "") -> str:
    """A new secret (given, or generated); deliveries from now on are signed with it."""
    check_manager(actor, subscription)
    new_secret = check_secret(secret)
    with transaction.atomic():
        subscription.secret = new_secret
        subscription.updated_at = timezone.now()
        subscription.save(update_fields=["secret", "updated_at"])
        events_log(subscription, "secret_rotated", actor)
    return new_secret


def delete_subscription(actor: User, subscription: Subscription) -> None:
    check_manager(actor, subscription)
    with transaction.atomic():
        events_log(subscription, "deleted", actor, before=_audit(subscription))
        subscription.delete()


def ping(actor: User, subscription: Subscription) -> str:
    """Queue a `ping` event to the subscription; return its delivery id."""
    check_manager(actor, subscription)
    if not subscription.active:
        raise Conflict("The subscription is disabled; enable it first.", field="active")
    now = timezone.now()
    data = envelope(PING, f"ping:{uuid.uuid4().hex}", now, None, actor=actor)
    with transaction.atomic():
        return _enqueue(subscription, PING, data["id"], _body(data))


# --- events -----------------------------------------------------------------------------------
def active_subscriptions(organization_id: int | None = None) -> list[Subscription]:
    """The active subscriptions told of an organization's events (all, without one)."""
    if organization_id is None:
        return list(Subscription.objects.filter(active=True).order_by("id"))
    return _ACTIVE_FOR.rows(organization_id=organization_id)


def _active_for(organization_id: int) -> QuerySet[Subscription]:
    rows = Subscription.objects.filter(active=True)
    rows = rows.filter(Q(organization_id=organization_id) | Q(organization__isnull=True))
    return rows.order_by("id")


# Read before every new ticket (its webhooks): compiled once (core.compiled).
_ACTIVE_FOR = Prepared(_active_for, organization_id=-7_000_000_013)


def _person(user: Any) -> dict[str, Any] | None:
    if user is None or not getattr(user, "pk", None):
        return None
    return {"email": user.email, "name": user.name}


def ticket_data(ticket: Any) -> dict[str, Any]:
    return {
        "key": ticket.key,
        "url": f"{settings.BASE_URL}/desk/t/{ticket.key}",
        "kind": ticket.kind,
        "title": ticket.title,
        "status": ticket.status,
        "priority": ticket.priority,
        "impact": ticket.impact,
        "urgency": ticket.urgency,
        "organization": ticket.organization.slug,
        "requester": ticket.requester.email if ticket.requester else None,
        "team": ticket.team.slug if ticket.team else None,
        "assignee": ticket.assignee.email if ticket.assignee else None,
        "channel": ticket.channel,
        "affected_ci": ticket.affected_ci_id,
        "parent": ticket.parent.key if ticket.parent else None,
        "tags": sorted(t.name for t in ticket.tags.all()),
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
    }


def envelope(
    event_type: str,
    event_id: str,
    at: Any,
    ticket: Any,
    *,
    actor: Any = None,
    changes: dict[str, tuple[Any, Any]] | None = None,
    comment: Any = None,
    clock: Any = None,
    escalation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The body of one event (schemas.WebhookEvent)."""
    return {
        "id": event_id,
        "type": event_type,
        "created_at": at,
        "organization": ticket.organization.slug if ticket is not None else None,
        "actor": _person(actor),
        "ticket": ticket_data(ticket) if ticket is not None else None,
        "changes": (
            {k: {"before": b, "after": a} for k, (b, a) in changes.items()}
            if changes is not None
            else None
        ),
        "comment": (
            {
                "id": comment.pk,
                "author": _person(comment.author),
                "body": comment.body,
                "is_public": comment.is_public,
                "channel": comment.channel,
                "created_at": comment.created_at,
            }
            if comment is not None
            else None
        ),
        "sla": (
            {
                "metric": clock.metric,
                "state": clock.state,
                "due_at": clock.due_at,
                "warned_at": clock.warned_at,
                "breached_at": clock.breached_at,
            }
            if clock is not None
            else None
        ),
        "escalation": escalation,
    }


def _body(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True, default=_json_default)


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _enqueue(subscription: Subscription, event_type: str, event_id: str, body: str) -> str:
    delivery = str(uuid.uuid4())
    outbox.enqueue(
        "webhook",
        {
            "subscription": subscription.pk,
            "delivery": delivery,
            "event": event_type,
            "event_id": event_id,
            "body": body,
        },
        dedupe_key=f"webhook:{subscription.pk}:{event_id}"[:200],
    )
    return delivery


def emit(
    event_type: str,
    ticket: Any,
    *,
    key: str,
    internal: bool = False,
    subscriptions: list[Subscription] | None = None,
    **data: Any,
) -> int:
    """Queue `event_type` about `ticket` for every subscription that wants it, in the caller's
    transaction; `key` identifies the event (the same key queues nothing twice). Internal
    events (internal notes) go only to staff-level subscriptions. Returns how many."""
    if subscriptions is None:
        subscriptions = active_subscriptions(ticket.organization_id)
    chosen = [
        s
        for s in subscriptions
        if s.active
        and s.organization_id in (None, ticket.organization_id)
        and s.wants(event_type)
        and (s.include_internal or not internal)
    ]
    if not chosen:
        return 0
    event_id = f"{event_type}:{key}"
    body = _body(envelope(event_type, event_id, timezone.now(), ticket, **data))
    for subscription in chosen:
        _enqueue(subscription, event_type, event_id, body)
    return len(chosen)
