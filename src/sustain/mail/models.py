"""Inbound e-mail: mailboxes to poll, every mail received, domain routes, and Message-IDs.

MessageRef threads mail to tickets: every Message-ID Sustain has received or sent per ticket.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from sustain.core.sealing import SealedTextField


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


class Mailbox(models.Model):
    """An IMAP mailbox that `sustain mail fetch` (and the worker, every minute) polls.

    New tickets from its mails go to its team; senders nobody knows become customers of its
    organization (when no domain route names another). `address` also picks the mailbox for
    mail delivered by SMTP/LMTP to that recipient.
    """

    class Security(models.TextChoices):
        SSL = "ssl", "IMAP over TLS (993)"
        STARTTLS = "starttls", "STARTTLS (143)"
        PLAIN = "plain", "plain, no encryption (local servers only)"

    class AfterFetch(models.TextChoices):
        MARK_SEEN = "seen", "mark as seen"
        MOVE = "move", "move to a folder"

    name = models.CharField(max_length=100, unique=True)
    address = models.EmailField(
        blank=True, default="", help_text="The address mail to this mailbox is sent to."
    )
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(default=993)
    security = models.CharField(max_length=10, choices=Security.choices, default=Security.SSL)
    username = models.CharField(max_length=255)
    password = SealedTextField(max_length=255, blank=True, default="")  # sealed at rest
    folder = models.CharField(max_length=255, default="INBOX")
    after_fetch = models.CharField(
        max_length=5, choices=AfterFetch.choices, default=AfterFetch.MARK_SEEN
    )
    move_to = models.CharField(
        max_length=255, blank=True, default="", help_text="The folder fetched mail is moved to."
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mailboxes",
        help_text="Unknown senders become customers of this organization.",
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mailboxes",
        help_text="New tickets from this mailbox go to this team.",
    )
    active = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    # A poll claims the mailbox until then, so two workers never poll it at once.
    lease_until = models.DateTimeField(null=True, blank=True)

    tenant_field = None
    customer_visible = False

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return self.name


class DomainRoute(models.Model):
    """Mail from an unknown sender at `domain` makes them a customer of `organization`."""

    domain = models.CharField(max_length=255, unique=True, help_text="e.g. acme.example")
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="mail_domains"
    )

    tenant_field = "organization"
    customer_visible = False

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return f"{self.domain} → {self.organization}"

    def clean(self) -> None:
        self.domain = self.domain.strip().lower().lstrip("@")


class InboundMail(models.Model):
    """Every mail received, once (by Message-ID), with what became of it."""

    class Status(models.TextChoices):
        OPENED = "opened", "Opened a ticket"
        APPENDED = "appended", "Added to a ticket"
        HELD = "held", "Held for review"
        IGNORED = "ignored"

    message_id = models.CharField(max_length=255, unique=True)
    sender = models.CharField(max_length=254, blank=True, default="")
    sender_name = models.CharField(max_length=200, blank=True, default="")
    subject = models.CharField(max_length=300, blank=True, default="")
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.CharField(max_length=500, blank=True, default="")
    notes = models.TextField(
        blank=True, default="", help_text="What could not be kept (refused attachments)."
    )
    text = models.TextField(blank=True, default="", help_text="The whole text, quotes included.")
    raw_path = models.CharField(
        max_length=200, help_text="The mail as received, under the data directory."
    )
    size = models.PositiveIntegerField(default=0)
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The customer the mail concerns, when known.",
    )
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="mails"
    )
    ticket = models.ForeignKey(
        "desk.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_mails",
    )
    answers = models.ForeignKey(
        "desk.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Held: the ticket the mail answers but whose organization the sender is not in.",
    )
    comment = models.OneToOneField(
        "desk.Comment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_mail",
    )
    released_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    # Who the mail is from (mail/authentication.py); blank: not checked (ignored mail).
    auth_result = models.CharField(
        max_length=10, blank=True, default="", help_text="pass, fail, temperror or none"
    )
    auth_method = models.CharField(
        max_length=10, blank=True, default="", help_text="authres, dkim, token or none"
    )
    auth_domain = models.CharField(
        max_length=255, blank=True, default="", help_text="The aligned domain that passed."
    )
    auth_reason = models.TextField(blank=True, default="")
    cc_ignored = models.TextField(
        blank=True, default="", help_text="Cc addresses not copied on the ticket, and why."
    )

    # Agents see the mail of the customers they serve, and mail nobody could place.
    tenant_field = "organization"
    tenant_optional = True
    customer_visible = False

    class Meta:
        indexes = [
            # The review page: WHERE status = 'held' ORDER BY id DESC
            models.Index(fields=["status", "id"], name="inboundmail_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.status})"

    @property
    def is_held(self) -> bool:
        return self.status == self.Status.HELD

    @property
    def authenticated(self) -> bool:
        return self.auth_result == "pass"
