"""Tickets (incidents and service requests), their comments, attachments and links."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from sustain.core import tenancy
from sustain.core.models import Priority, StoredFile
from sustain.core.search import FullTextIndex


class Kind(models.TextChoices):
    INCIDENT = "incident"
    REQUEST = "request", "Service request"


KEY_PREFIX = {Kind.INCIDENT: "INC", Kind.REQUEST: "REQ"}


class Status(models.TextChoices):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)
# Characters of a ticket's description or of a comment: the API refuses longer ones, and what
# mail brings is cut there (mail.parse, mail.content.body_of).
TEXT_MAX = 100_000


class Level(models.IntegerChoices):
    """Impact and urgency."""

    HIGH = 1
    MEDIUM = 2
    LOW = 3


class Channel(models.TextChoices):
    WEB = "web"
    API = "api"
    EMAIL = "email"
    MONITORING = "monitoring"
    PHONE = "phone"


class PriorityRule(models.Model):
    """One cell of the impact × urgency → priority matrix."""

    impact = models.PositiveSmallIntegerField(choices=Level.choices)
    urgency = models.PositiveSmallIntegerField(choices=Level.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)

    tenant_field = None

    class Meta:
        ordering = ["impact", "urgency"]
        constraints = [
            models.UniqueConstraint(fields=["impact", "urgency"], name="priority_rule_unique_cell")
        ]

    def __str__(self) -> str:
        return f"impact {self.impact} × urgency {self.urgency} → P{self.priority}"


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    tenant_field = None

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    key = models.CharField(max_length=20, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.INCIDENT)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True, default="")
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="tickets"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requested_tickets",
    )
    affected_ci = models.ForeignKey(
        "cmdb.ConfigItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    impact = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.MEDIUM)
    urgency = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.MEDIUM)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.P3)
    priority_reason = models.CharField(
        max_length=300, blank=True, default="", help_text="Why an agent overrode the matrix."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.WEB)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="watched_tickets"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The SLA-first queues' columns, kept by the SLA clocks (sla.clocks.next_due) whenever a
    # clock moves: the nearest due instant of the ticket's active clocks (counting, not met;
    # None without one) and the earliest warning point among them. Breached: due <= now;
    # due soon: warning <= now < due. Both move only when a clock does, not with time.
    sla_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_warn_at = models.DateTimeField(null=True, blank=True, editable=False)

    tenant_field = "organization"
    search_index = FullTextIndex("desk_ticket", ("key", "title", "description"))

    class Meta:
        indexes = [
            # Queues: WHERE status IN (…) [AND team/assignee/organization = ?] ORDER BY id DESC
            models.Index(fields=["status", "id"], name="ticket_status_idx"),
            models.Index(fields=["assignee", "status", "id"], name="ticket_assignee_idx"),
            models.Index(fields=["team", "status", "id"], name="ticket_team_idx"),
            models.Index(fields=["organization", "status", "id"], name="ticket_org_idx"),
            models.Index(fields=["requester", "id"], name="ticket_requester_idx"),
            # order=priority: ORDER BY priority, id DESC — the index must run the same way, or
            # SQLite sorts every ticket of the first priority (0.5 s at 1M tickets).
            models.Index(fields=["priority", "-id"], name="ticket_priority_newest_idx"),
            models.Index(fields=["created_at"], name="ticket_created_idx"),
            # order=updated: ORDER BY updated_at DESC, id DESC (walked backwards).
            models.Index(fields=["updated_at", "id"], name="ticket_updated_idx"),
            # order=due and the breached / due-soon queues:
            # WHERE sla_due_at IS NOT NULL [AND sla_due_at <= now | > now] ORDER BY sla_due_at, id
            # Partial: only tickets with an active clock are in it (a tenth of a large desk).
            models.Index(
                fields=["sla_due_at", "id"],
                name="ticket_sla_due_idx",
                condition=models.Q(sla_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @classmethod
    def customer_scope(cls, queryset: QuerySet, user: Any) -> QuerySet:
        return tenancy.customer_scope(queryset, user, public=None, own="requester")


class Comment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    is_public = models.BooleanField(default=True)
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.WEB)
    created_at = models.DateTimeField(default=timezone.now)
    # The ticket it was written on, when a merge moved it to the ticket it was merged into:
    # that ticket's people keep the whole conversation in view.
    merged_from = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_comments"
    )

    tenant_field = "ticket__organization"

    class Meta:
        indexes = [models.Index(fields=["ticket", "id"], name="comment_ticket_idx")]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.ticket_id}"

    @classmethod
    def customer_scope(cls, queryset: QuerySet, user: Any) -> QuerySet:
        return own_or_merged_from(tenancy.customer_scope(queryset, user), user)


def own_or_merged_from(queryset: QuerySet, user: Any) -> QuerySet:
    """A customer whose organization does not share tickets sees the rows of their own
    tickets: the ticket's, or the one a merge moved them from."""
    if not user.is_customer or user.organization.customers_see_all_tickets:
        return queryset
    return queryset.filter(models.Q(ticket__requester=user) | models.Q(merged_from__requester=user))


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"tickets/{instance.ticket_id}/{instance.sha256[:16]}-{filename}"


class Attachment(StoredFile):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=300)
    is_public = models.BooleanField(default=True)
    merged_from = models.ForeignKey(  # as Comment.merged_from
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_attachments"
    )

    tenant_field = "ticket__organization"

    IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

    @property
    def is_image(self) -> bool:
        """An image a browser shows in the page (never SVG: it could carry script)."""
        return self.content_type in self.IMAGE_TYPES

    @classmethod
    def customer_scope(cls, queryset: QuerySet, user: Any) -> QuerySet:
        # Public files only, and none of an internal note (whatever the file's own flag).
        queryset = tenancy.customer_scope(queryset, user)
        if user.is_customer:
            queryset = queryset.exclude(comment__is_public=False)
        return own_or_merged_from(queryset, user)


class TicketLink(models.Model):
    class Kind(models.TextChoices):
        RELATED = "related"
        DUPLICATE = "duplicate", "duplicate of"

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = "source__organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="ticket_link_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"


class SavedFilter(models.Model):
    """A named queue: the query string of the queue page, private or shared with all agents."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters"
    )
    name = models.CharField(max_length=100)
    query = models.CharField(max_length=1000)
    shared = models.BooleanField(default=False)

    tenant_field = None
    customer_visible = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
