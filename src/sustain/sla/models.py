"""Business calendars, SLA policies with targets per priority, and the clocks on tickets."""

from __future__ import annotations

from django.db import models
from django.utils.timezone import now

from sustain.core.businesstime import Schedule, parse_hours


class Calendar(models.Model):
    """Working hours in a time zone, with holidays; or 24×7."""

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    always = models.BooleanField(default=False, help_text="24×7: every minute is business time.")
    hours = models.JSONField(
        default=dict,
        blank=True,
        help_text='{"mon": [["09:00", "17:00"]], …}; local wall-clock times.',
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="calendars",
        help_text="The customer whose calendar this is (none: a shared calendar).",
    )
    updated_at = models.DateTimeField(default=now)

    tenant_field = None
    customer_visible = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def schedule(self) -> Schedule:
        holidays = frozenset(self.holidays.values_list("date", flat=True))
        return Schedule(self.timezone, parse_hours(self.hours or {}), holidays, always=self.always)


class Holiday(models.Model):
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=200, blank=True, default="")

    tenant_field = None
    customer_visible = False

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique_date")
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"


class Metric(models.TextChoices):
    FIRST_RESPONSE = "first_response"
    NEXT_UPDATE = "next_update"
    RESOLUTION = "resolution"


class Policy(models.Model):
    """Ordered: the first active policy whose conditions all match a ticket applies."""

    name = models.CharField(max_length=100, unique=True)
    order = models.PositiveIntegerField(default=100)
    active = models.BooleanField(default=True)
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="policies")
    # Conditions; empty means "any".
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=10, blank=True, default="")
    priority = models.PositiveSmallIntegerField(null=True, blank=True)
    product = models.ForeignKey(
        "cmdb.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    config_item = models.ForeignKey(
        "cmdb.ConfigItem", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    warn_percent = models.PositiveSmallIntegerField(default=75)
    pause_statuses = models.JSONField(
        default=list, blank=True, help_text='Statuses that stop the clock, e.g. ["pending"].'
    )
    updated_at = models.DateTimeField(default=now)

    tenant_field = None
    customer_visible = False

    class Meta:
        ordering = ["order", "id"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.name


class Target(models.Model):
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="targets")
    priority = models.PositiveSmallIntegerField()
    metric = models.CharField(max_length=20, choices=Metric.choices)
    minutes = models.PositiveIntegerField(help_text="Business minutes.")

    tenant_field = None
    customer_visible = False

    class Meta:
        ordering = ["priority", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "priority", "metric"], name="target_unique")
        ]

    def __str__(self) -> str:
        return f"P{self.priority} {self.metric}: {self.minutes} min"


class Clock(models.Model):
    """One target on one ticket. Running clocks carry their due and warning instants."""

    class State(models.TextChoices):
        RUNNING = "running"
        PAUSED = "paused"
        MET = "met"
        BREACHED = "breached"

    ticket = models.ForeignKey("desk.Ticket", on_delete=models.CASCADE, related_name="clocks")
    metric = models.CharField(max_length=20, choices=Metric.choices)
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="clocks")
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    target_seconds = models.PositiveIntegerField()
    # Business seconds counted up to `counted_until`; a running clock counts on from there.
    elapsed_seconds = models.FloatField(default=0)
    counted_until = models.DateTimeField(default=now)
    started_at = models.DateTimeField(default=now)
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)

    tenant_field = "ticket__organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "metric"], name="clock_unique_metric")
        ]
        indexes = [
            # The sweep's breach query: WHERE state = 'running' AND due_at <= now
            models.Index(fields=["state", "due_at"], name="clock_state_due_idx"),
            # The sweep's warning query:
            # WHERE state = 'running' AND warned_at IS NULL AND warn_at <= now
            models.Index(fields=["state", "warned_at", "warn_at"], name="clock_state_warn_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.metric} {self.state}"
