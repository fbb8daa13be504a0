"""Shared tables: the event log, the outbox, counters and idempotency records; and the priority
scale tickets and bugs share."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from sustain.core.errors import Invalid


class Priority(models.IntegerChoices):
    """One scale for tickets and bugs, so a bug can be ranked against the incidents it causes."""

    P1 = 1, "P1 critical"
    P2 = 2, "P2 high"
    P3 = 3, "P3 medium"
    P4 = 4, "P4 low"


def as_priority(value: Any) -> int:
    """`value` as a priority of the scale (1–4), or a 422 naming the field."""
    try:
        priority = int(value)
    except (TypeError, ValueError):
        priority = 0
    if priority not in Priority.values:
        raise Invalid("priority must be 1, 2, 3 or 4.", field="priority")
    return priority


class Event(models.Model):
    """One change to one object: the ticket timeline and the audit log are both read from here."""

    created_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    request_id = models.CharField(max_length=64, blank=True, default="")
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    target_type = models.CharField(max_length=40)
    target_id = models.BigIntegerField()
    verb = models.CharField(max_length=40)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    # Customers see public events on a ticket's timeline; internal ones stay with the agents.
    is_public = models.BooleanField(default=True)

    tenant_field = "organization"

    class Meta:
        indexes = [
            # Timeline of one object: WHERE target_type = ? AND target_id = ? ORDER BY id
            models.Index(fields=["target_type", "target_id", "id"], name="event_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.target_type}:{self.target_id} {self.verb}"


class OutboxMessage(models.Model):
    """A side effect written in the action's transaction and delivered by the worker."""

    class State(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        DEAD = "dead"

    created_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=40)
    payload = models.JSONField()
    # One event yields one message: a repeated enqueue with the same key is ignored.
    dedupe_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        indexes = [
            # The worker's claim query: WHERE state = 'pending' AND next_attempt_at <= now
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_pending_due_idx",
                condition=models.Q(state="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"


class Counter(models.Model):
    """Named counters for human keys (INC-1042); incremented with one UPDATE … RETURNING."""

    name = models.CharField(max_length=40, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class IdempotencyRecord(models.Model):
    """The first answer to a POST carrying an Idempotency-Key, replayed for repeats. Written in
    the request's own transaction with its answer (core/idempotency.py): a committed record
    always has one, except those of versions that committed the claim first."""

    principal = models.CharField(max_length=80)
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True, default="")
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_unique_key"),
        ]
        indexes = [
            # The hourly purge: DELETE … WHERE created_at < now - retention.
            models.Index(fields=["created_at"], name="idempotency_created_at"),
        ]

    def __str__(self) -> str:
        return f"{self.principal}:{self.key}"


class StoredFile(models.Model):
    """An uploaded file kept beside the object it belongs to (a ticket's, a bug's); the
    subclass adds its owner and the `file` field with its own storage path."""

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.filename
