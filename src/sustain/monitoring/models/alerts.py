"""Where alerts come from, the alerts themselves, the tokens machines send with, and the
windows (maintenance, change, freeze) that hold them."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from sustain.accounts.models import Organization, User
from sustain.cmdb.models import ConfigItem
from sustain.desk.models import Level, Ticket


class Source(models.Model):
    """Where alerts come from: an Alertmanager, a heartbeat, a probe, a rule, a scrape job."""

    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager", "Alertmanager"
        HEARTBEAT = "heartbeat", "Heartbeat"
        PROBE = "probe", "Probe"
        RULE = "rule", "Threshold rule"
        SCRAPE = "scrape", "Scrape job"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="monitoring_sources"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    config_item = models.ForeignKey(
        ConfigItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolve_incidents = models.BooleanField(
        default=True,
        help_text="Resolve the incident when the alert clears (otherwise an agent does).",
    )
    reopen_within_minutes = models.PositiveIntegerField(
        default=60, help_text="A firing again this soon after resolution reopens the incident."
    )
    flap_changes = models.PositiveIntegerField(
        default=4, help_text="More state changes than this within the flap window: flapping."
    )
    flap_window_minutes = models.PositiveIntegerField(default=30)
    stable_minutes = models.PositiveIntegerField(
        default=15, help_text="A flapping alert is stable again after this long without change."
    )
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = "organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "name"], name="monitoring_source_unique_name"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class SeverityMapping(models.Model):
    """An alert's severity label → the incident's impact and urgency (admins edit it)."""

    severity = models.CharField(max_length=40, unique=True)
    impact = models.PositiveSmallIntegerField(choices=Level.choices)
    urgency = models.PositiveSmallIntegerField(choices=Level.choices)

    def __str__(self) -> str:
        return f"{self.severity} → impact {self.impact}, urgency {self.urgency}"


class Alert(models.Model):
    """One alert (a fingerprint of a source), its state and the incident it opened."""

    class State(models.TextChoices):
        FIRING = "firing", "Firing"
        RESOLVED = "resolved", "Resolved"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="alerts")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=128)
    name = models.CharField(max_length=300)
    state = models.CharField(max_length=10, choices=State.choices)
    severity = models.CharField(max_length=40, blank=True, default="")
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    config_item = models.ForeignKey(
        ConfigItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    generator_url = models.URLField(max_length=2000, blank=True, default="")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    state_changed_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    received = models.PositiveIntegerField(default=1, help_text="Deliveries received.")
    # Flapping: the times of the recent state changes (at most flap_changes + 1 kept).
    changes = models.JSONField(default=list, blank=True)
    flapping_since = models.DateTimeField(null=True, blank=True)
    # Fired inside a maintenance window: recorded on it, no incident until held_until (the
    # occurrence's end), when the sweep opens one if the alert still fires.
    window = models.ForeignKey(
        "Window", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    held_until = models.DateTimeField(null=True, blank=True)

    tenant_field = "organization"

    class Meta:
        constraints = [
            # Two deliveries of one alert at once meet here: one row, so one incident.
            models.UniqueConstraint(
                fields=["source", "fingerprint"], name="monitoring_alert_one_per_fingerprint"
            )
        ]
        indexes = [
            # The alerts list: firing first, newest change first, per organization.
            models.Index(
                fields=["organization", "state", "-state_changed_at"],
                name="monitoring_alert_list",
            ),
            # The flapping sweep: alerts held as flapping.
            models.Index(
                fields=["flapping_since"],
                name="monitoring_alert_flapping",
                condition=models.Q(flapping_since__isnull=False),
            ),
            # The maintenance sweep: alerts held until their window's occurrence ends.
            models.Index(
                fields=["held_until"],
                name="monitoring_alert_held",
                condition=models.Q(held_until__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.state})"

    @property
    def is_flapping(self) -> bool:
        return self.flapping_since is not None


class AlertEvent(models.Model):
    """The history of an alert: each state change, and flapping held or cleared."""

    class What(models.TextChoices):
        FIRING = "firing", "Firing"
        RESOLVED = "resolved", "Resolved"
        FLAPPING = "flapping", "Flapping"
        STABLE = "stable", "Stable again"
        HELD = "held", "Held by a maintenance window"
        RELEASED = "released", "Window over, still firing"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="history")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    what = models.CharField(max_length=10, choices=What.choices)
    at = models.DateTimeField(default=timezone.now)
    detail = models.CharField(max_length=300, blank=True, default="")

    tenant_field = "organization"

    class Meta:
        indexes = [models.Index(fields=["alert", "-at"], name="monitoring_alert_history")]

    def __str__(self) -> str:
        return f"{self.get_what_display()} at {self.at:%Y-%m-%d %H:%M}"


class MachineToken(models.Model):
    """An ingestion token for machines (Alertmanager, heartbeat scripts, metric exporters):
    bound to one organization, and optionally one source or configuration item; shown once,
    stored as a SHA-256 digest, revocable. It can never write another organization's data."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="machine_tokens"
    )
    name = models.CharField(max_length=100)
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.CASCADE, related_name="tokens"
    )
    config_item = models.ForeignKey(
        ConfigItem, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    tenant_field = "organization"
    customer_visible = False

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    def is_usable(self, now: Any = None) -> bool:
        return self.revoked_at is None


class Window(models.Model):
    """A period on configuration items (and what depends on them) or a whole organization,
    one-off or recurring (an RRULE read in the window's time zone), with a reason.

    Maintenance windows silence alerts today; change management's change windows and freeze
    periods are the same model with another purpose.
    """

    class Purpose(models.TextChoices):
        MAINTENANCE = "maintenance", "Maintenance"
        CHANGE = "change", "Change window"
        FREEZE = "freeze", "Freeze period"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="windows")
    purpose = models.CharField(max_length=12, choices=Purpose.choices, default=Purpose.MAINTENANCE)
    name = models.CharField(max_length=200)
    reason = models.TextField(blank=True, default="")
    starts_at = models.DateTimeField(help_text="The first occurrence's start.")
    ends_at = models.DateTimeField(help_text="The first occurrence's end.")
    rrule = models.CharField(
        max_length=500,
        blank=True,
        default="",
        help_text="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=SU",
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    whole_organization = models.BooleanField(default=False)
    config_items = models.ManyToManyField(ConfigItem, blank=True, related_name="windows")
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = "organization"

    class Meta:
        indexes = [models.Index(fields=["organization", "purpose"], name="monitoring_window_org")]

    def __str__(self) -> str:
        return self.name
