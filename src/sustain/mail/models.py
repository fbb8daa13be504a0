"""What threads mail to tickets: every Message-ID Sustain has received or sent for a ticket."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class MessageRef(models.Model):
    class Direction(models.TextChoices):
        IN = "in"
        OUT = "out"

    message_id = models.CharField(max_length=255, unique=True, help_text="Without angle brackets.")
    ticket = models.ForeignKey("desk.Ticket", on_delete=models.CASCADE, related_name="message_refs")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = "ticket__organization"

    class Meta:
        indexes = [
            # The newest messages of a ticket, for In-Reply-To/References of what we send:
            # WHERE ticket_id = ? ORDER BY id DESC
            models.Index(fields=["ticket", "id"], name="messageref_ticket_idx"),
        ]

    def __str__(self) -> str:
        return self.message_id
