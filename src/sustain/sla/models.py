"""Business calendars, SLA policies with targets per priority, and the clocks on tickets."""

from __future__ import annotations

from datetime import time

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.timezone import now

from sustain.core.businesstime import Schedule, parse_hours
from sustain.sla import validation as check


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

    tenant_field = "organization"  # empty: shared by every organization
    tenant_optional = True
    customer_visible = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        check.gather(
            lambda: check.check_timezone(self.timezone),
            lambda: check.check_hours(self.hours, self.always),
            self._check_owner,
        )

    def _check_owner(self) -> None:
        """A customer's calendar serves only that customer's policies."""
        if self.pk is None or self.organization_id is None:
            return
        if self.policies.exclude(organization_id=self.organization_id).exists():
            raise ValidationError(
                {"organization": "Policies of other organizations use this calendar."}
            )

    def schedule(self) -> Schedule:
        return self.schedule_with(frozenset(self.holidays.values_list("date", flat=True)))

    def schedule_with(self, holidays: frozenset) -> Schedule:
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

    tenant_field = "organization"  # empty: shared by every organization
    tenant_optional = True
    customer_visible = False

    class Meta:
        ordering = ["order", "id"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        check.gather(
            lambda: check.check_range(self.warn_percent, 1, 99, "warn_percent"),
            lambda: check.check_pause_statuses(self.pause_statuses),
            lambda: check.check_priority(self.priority),
            self._check_kind,
            self._check_owners,
        )

    def _check_kind(self) -> None:
        if self.kind not in ("", "incident", "request"):
            raise ValidationError({"kind": "kind is empty (any), incident or request."})

    def _check_owners(self) -> None:
        """A customer's calendar or CI serves only that customer's policies."""
        calendar = Calendar.objects.filter(pk=self.calendar_id).first()
        if calendar is not None and calendar.organization_id not in (None, self.organization_id):
            raise ValidationError({"calendar": f"{calendar} belongs to another organization."})
        if self.config_item_id and self.organization_id:
            from sustain.cmdb.models import ConfigItem

            owner = (
                ConfigItem.objects.filter(pk=self.config_item_id)
                .values_list("organization_id", flat=True)
                .first()
            )
            if owner not in (None, self.organization_id):
                raise ValidationError(
                    {"config_item": "The configuration item belongs to another organization."}
                )


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

    def clean(self) -> None:
        check.gather(
            lambda: check.check_priority(self.priority, optional=False),
            lambda: check.check_range(self.minutes, 1, check.MAX_TARGET_MINUTES, "minutes"),
        )


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
    # Business seconds counted up to `counted_until`; a counting clock counts on from there.
    elapsed_seconds = models.FloatField(default=0)
    # Whether time counts now: running clocks, and breached ones until met or paused.
    counting = models.BooleanField(default=True)
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


class OnCallSchedule(models.Model):
    """A team's rotation: participants in order, each on call for one shift from the hand-over."""

    team = models.ForeignKey(
        "accounts.Team", on_delete=models.CASCADE, related_name="oncall_schedules"
    )
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    shift_hours = models.PositiveIntegerField(default=24 * 7, help_text="Shift length in hours.")
    handover = models.TimeField(default=time(9, 0), help_text="Local wall-clock time of hand-over.")
    rotation_start = models.DateField(
        help_text="The first participant's first shift starts on this day."
    )
    ack_minutes = models.PositiveIntegerField(
        default=15, help_text="Page the next person when a page is not acknowledged within this."
    )

    tenant_field = None
    customer_visible = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        check.gather(
            lambda: check.check_timezone(self.timezone),
            lambda: check.check_range(self.shift_hours, 1, check.MAX_SHIFT_HOURS, "shift_hours"),
            lambda: check.check_range(self.ack_minutes, 1, check.MAX_ACK_MINUTES, "ack_minutes"),
        )


class OnCallParticipant(models.Model):
    schedule = models.ForeignKey(
        OnCallSchedule, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()

    tenant_field = None
    customer_visible = False

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "position"], name="oncall_unique_position")
        ]

    def __str__(self) -> str:
        return f"{self.position}: {self.user_id}"

    def clean(self) -> None:
        from sustain.sla.oncall import check_member

        check_member(self.schedule.team, self.user, "user")


class OnCallOverride(models.Model):
    """Someone else takes the pager from `start` to `end`; the newest override wins."""

    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    created_at = models.DateTimeField(default=now)

    tenant_field = None
    customer_visible = False

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["schedule", "start", "end"], name="oncall_override_span_idx")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.start}–{self.end}"

    def clean(self) -> None:
        from sustain.sla.oncall import check_member

        check.gather(
            lambda: check_member(self.schedule.team, self.user, "user"),
            self._check_span,
        )

    def _check_span(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "The override must end after it starts."})


class Page(models.Model):
    """A page to the person on call; unacknowledged, it passes to the next participant."""

    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name="pages")
    ticket = models.ForeignKey(
        "desk.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="pages")
    reason = models.CharField(max_length=300)
    attempt = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=now)
    ack_due_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    tenant_field = None
    customer_visible = False

    class Meta:
        indexes = [
            # The sweep: WHERE acknowledged_at IS NULL AND escalated_at IS NULL AND ack_due_at <= now
            models.Index(
                fields=["acknowledged_at", "escalated_at", "ack_due_at"], name="page_unacked_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"page {self.pk} to {self.user_id}"


class EscalationRule(models.Model):
    class Condition(models.TextChoices):
        SLA_WARNING = "sla_warning"
        SLA_BREACH = "sla_breach"
        UNASSIGNED = "unassigned", "unassigned for N minutes"
        NO_AGENT_UPDATE = "no_agent_update", "no agent update for N minutes"
        P1_OPENED = "p1_opened", "a P1 opened"

    name = models.CharField(max_length=100, unique=True)
    active = models.BooleanField(default=True)
    condition = models.CharField(max_length=20, choices=Condition.choices)
    minutes = models.PositiveIntegerField(
        default=0, help_text="N for the 'for N minutes' conditions."
    )
    metric = models.CharField(max_length=20, choices=Metric.choices, blank=True, default="")
    urgent = models.BooleanField(
        default=False,
        help_text="Notify at any hour; otherwise notifications wait for working hours.",
    )
    # Scope; empty means any.
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    priority = models.PositiveSmallIntegerField(null=True, blank=True)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=now)

    tenant_field = "organization"  # empty: shared by every organization
    tenant_optional = True
    customer_visible = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        check.gather(
            lambda: check.check_range(self.minutes, 0, check.MAX_ESCALATION_MINUTES, "minutes"),
            lambda: check.check_priority(self.priority),
        )


class EscalationLevel(models.Model):
    """Level n fires `delay_minutes` after the rule's condition began, once per ticket and clock.

    actions: [{"do": "notify", "who": "assignee" | "team_lead" | "managers" | "on_call"},
              {"do": "page", "schedule": "<slug>"}, {"do": "reassign", "team": "<slug>"},
              {"do": "raise_priority"}, {"do": "add_watchers", "users": ["<email>", …]}]
    """

    rule = models.ForeignKey(EscalationRule, on_delete=models.CASCADE, related_name="levels")
    level = models.PositiveSmallIntegerField()
    delay_minutes = models.PositiveIntegerField(default=0)
    actions = models.JSONField(default=list)

    tenant_field = None
    customer_visible = False

    class Meta:
        ordering = ["level"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "level"], name="escalation_unique_level")
        ]

    def __str__(self) -> str:
        return f"{self.rule} level {self.level}"

    def clean(self) -> None:
        check.gather(
            lambda: check.check_range(self.level, 1, 100, "level"),
            lambda: check.check_range(
                self.delay_minutes, 0, check.MAX_ESCALATION_MINUTES, "delay_minutes"
            ),
            lambda: check.check_escalation_actions(
                self.actions, organization_id=self._rule_organization_id()
            ),
        )

    def _rule_organization_id(self) -> int | None:
        """The organization the rule is scoped to (the rule may be unsaved yet)."""
        rule = getattr(self, "rule", None)  # unset: RelatedObjectDoesNotExist, an AttributeError
        return rule.organization_id if rule is not None else None


class EscalationFiring(models.Model):
    """That a level fired for a ticket in one cycle; the unique key makes it happen once."""

    level = models.ForeignKey(EscalationLevel, on_delete=models.CASCADE, related_name="firings")
    ticket = models.ForeignKey("desk.Ticket", on_delete=models.CASCADE, related_name="+")
    cycle = models.CharField(
        max_length=80, help_text="The clock and its cycle, or the silence it answers."
    )
    fired_at = models.DateTimeField(default=now)

    tenant_field = "ticket__organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["level", "ticket", "cycle"], name="escalation_fires_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.level} on {self.ticket_id}"


class RecomputeRun(models.Model):
    """One recomputation of open tickets' clocks after a calendar or policy change.

    Written in the same transaction as the change, so a run is never lost: the worker's task
    claims it (started_at), counts its tickets (total) and moves `done` on after each batch;
    the SLA pages poll it to show the progress, and the minute sweep picks up a run whose
    task never came (a worker that was down) or died half-way.
    """

    reason = models.CharField(max_length=200)
    calendar = models.ForeignKey(
        Calendar, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    everything = models.BooleanField(default=False)
    total = models.PositiveIntegerField(null=True, blank=True)
    done = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=now)
    started_at = models.DateTimeField(null=True, blank=True)
    beat_at = models.DateTimeField(null=True, blank=True, help_text="The last batch written.")
    finished_at = models.DateTimeField(null=True, blank=True)

    tenant_field = None
    customer_visible = False

    class Meta:
        ordering = ["-id"]
        indexes = [
            # recompute.unfinished(): WHERE finished_at IS NULL (the sweep and the SLA pages)
            models.Index(
                fields=["created_at"],
                name="recompute_unfinished",
                condition=models.Q(finished_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.reason}: {self.done} of {self.total if self.total is not None else '?'}"
