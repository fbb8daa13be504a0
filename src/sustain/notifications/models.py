"""What each person wants to be told, and the digest items waiting for their daily mail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Moment(models.TextChoices):
    """The moments a person can be told about, each with its own preference."""

    TICKET_CREATED = "ticket_created", "Ticket created"
    PUBLIC_REPLY = "public_reply", "Public reply"
    STATUS_CHANGED = "status_changed", "Status changed"
    ASSIGNED = "assigned", "Assigned to me or my team"
    SLA_WARNING = "sla_warning", "SLA warning"
    SLA_BREACHED = "sla_breached", "SLA breached"
    ESCALATION = "escalation", "Escalation"
    FIX_DEPLOYED = "fix_deployed", "A fix reached my environment"


class DeliveryMode(models.TextChoices):
    IMMEDIATE = "immediate", "E-mail at once"
    DIGEST = "digest", "In the daily digest"
    OFF = "off", "Off"


def _delivery_field() -> models.CharField:
    return models.CharField(
        max_length=10, choices=DeliveryMode.choices, default=DeliveryMode.IMMEDIATE
    )


class Preferences(models.Model):
    """One row per person who changed something; without a row everything comes at once."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    ticket_created = _delivery_field()
    public_reply = _delivery_field()
    status_changed = _delivery_field()
    assigned = _delivery_field()
    sla_warning = _delivery_field()
    sla_breached = _delivery_field()
    escalation = _delivery_field()
    fix_deployed = _delivery_field()
    digest_hour = models.PositiveSmallIntegerField(
        default=7, help_text="Local hour (0–23) at which the daily digest is sent."
    )
    organization_contact = models.BooleanField(
        default=False,
        help_text="Customers: be told about every ticket of my organization, not only mine.",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    tenant_field = "user__organization"

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"notification preferences of {self.user_id}"

    def delivery(self, event: str) -> str:
        return getattr(self, event, DeliveryMode.IMMEDIATE)


class DigestItem(models.Model):
    """A notification held for its recipient's daily digest."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_items"
    )
    event = models.CharField(max_length=20, blank=True, default="")
    ticket = models.ForeignKey(
        "desk.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # One event yields one item per person, as in the outbox.
    key = models.CharField(max_length=200, unique=True)
    subject = models.CharField(max_length=300)
    body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    # Set when a digest claims the item: the digest's id and when it was sent.
    digest = models.CharField(max_length=32, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)

    tenant_field = "user__organization"

    class Meta:
        indexes = [
            # The digest run: WHERE sent_at IS NULL [AND user_id = ? AND created_at < cutoff]
            models.Index(
                fields=["user", "created_at"],
                name="digest_pending_idx",
                condition=models.Q(sent_at__isnull=True),
            ),
            # The items of one digest: WHERE digest = ?
            models.Index(fields=["digest"], name="digest_batch_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} for {self.user_id}"


class CarbonCopy(models.Model):
    """An address copied on a ticket's customer mail (a CC of the mail that opened it, or
    added by an agent) that is not, or not necessarily, a user."""

    ticket = models.ForeignKey("desk.Ticket", on_delete=models.CASCADE, related_name="cc")
    email = models.EmailField()
    added_at = models.DateTimeField(default=timezone.now)

    tenant_field = "ticket__organization"
    customer_visible = False

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "email"], name="cc_unique_address")
        ]

    def __str__(self) -> str:
        return f"{self.email} on {self.ticket_id}"
