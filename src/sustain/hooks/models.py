"""Webhook subscriptions and the log of every delivery attempt."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from sustain.core.sealing import SealedTextField


class EventType(models.TextChoices):
    """What a subscription can hear about. `ping` is sent on request and to everyone."""

    TICKET_CREATED = "ticket.created", "A ticket was opened"
    TICKET_UPDATED = "ticket.updated", "A ticket's fields changed (title, priority, tags …)"
    TICKET_STATUS_CHANGED = "ticket.status_changed", "A ticket's status changed"
    TICKET_ASSIGNED = "ticket.assigned", "A ticket's team or assignee changed"
    COMMENT_CREATED = "comment.created", "A public reply (or, for staff-level, an internal note)"
    SLA_WARNING = "sla.warning", "An SLA clock passed its warning threshold"
    SLA_BREACHED = "sla.breached", "An SLA clock passed its due time"
    TICKET_ESCALATED = "ticket.escalated", "An escalation rule fired on a ticket"


PING = "ping"


class Subscription(models.Model):
    """A receiver URL told about events of one organization (or of all), signed with a secret."""

    name = models.CharField(max_length=100)
    url = models.CharField(max_length=500)
    # Event types (EventType values); empty: every type.
    events = models.JSONField(default=list, blank=True)
    # Only this customer's tickets; empty: every organization (only for those who serve all).
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # Staff-level: also internal notes.
    include_internal = models.BooleanField(default=False)
    secret = SealedTextField(max_length=128)  # sealed at rest
    active = models.BooleanField(default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhook_subscriptions",
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    tenant_field = "organization"
    customer_visible = False

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # Emitting an event: WHERE active AND (organization_id = ? OR organization_id IS NULL)
            models.Index(
                fields=["organization"],
                name="hook_active_org_idx",
                condition=models.Q(active=True),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return event_type == PING or not self.events or event_type in self.events


class Delivery(models.Model):
    """One attempt to deliver one event to one subscription."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    # X-Sustain-Delivery: the same on every attempt of one event to one subscription.
    delivery_id = models.UUIDField()
    event = models.CharField(max_length=40)
    attempt = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    request_body = models.TextField(blank=True, default="")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True, default="")
    error = models.CharField(max_length=500, blank=True, default="")

    tenant_field = "subscription__organization"
    customer_visible = False

    class Meta:
        indexes = [
            # The log of a subscription, newest first: WHERE subscription_id = ? ORDER BY id DESC
            models.Index(fields=["subscription", "id"], name="hook_delivery_log_idx"),
            # Attempts of one delivery: WHERE subscription_id = ? AND delivery_id = ?
            models.Index(fields=["delivery_id"], name="hook_delivery_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription_id} #{self.attempt}"
