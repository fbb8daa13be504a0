"""What Sustain checks itself: heartbeats (with their pings) and probes (with their results),
each with its own alert source."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from sustain.accounts.models import Organization
from sustain.cmdb.models import ConfigItem
from sustain.monitoring.models.alerts import Source


class Heartbeat(models.Model):
    """A job that pings us: every period (+ grace), or on a cron schedule in a time zone.

    Its own source (kind heartbeat) carries its one alert. `next_deadline_at` is when it
    next turns late or down: the sweep finds the due ones by that column and claims each
    with a conditional UPDATE, so two workers never move one twice."""

    class State(models.TextChoices):
        NEW = "new", "New"
        UP = "up", "Up"
        STARTED = "started", "Running"
        LATE = "late", "Late"
        DOWN = "down", "Down"
        PAUSED = "paused", "Paused"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="heartbeats"
    )
    name = models.CharField(max_length=200)
    source = models.OneToOneField(Source, on_delete=models.CASCADE, related_name="heartbeat")
    config_item = models.ForeignKey(
        ConfigItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uuid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    period_seconds = models.PositiveIntegerField(default=86400)
    grace_seconds = models.PositiveIntegerField(default=3600)
    cron = models.CharField(max_length=100, blank=True, default="")
    time_zone = models.CharField(max_length=64, default="UTC")
    state = models.CharField(max_length=10, choices=State.choices, default=State.NEW)
    last_ping_at = models.DateTimeField(null=True, blank=True)
    last_start_at = models.DateTimeField(null=True, blank=True)
    last_duration = models.DurationField(null=True, blank=True)
    next_deadline_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = "organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="monitoring_heartbeat_unique_name"
            )
        ]
        indexes = [
            # The deadline sweep: only heartbeats that can turn late or down.
            models.Index(
                fields=["next_deadline_at"],
                name="monitoring_heartbeat_due",
                condition=models.Q(next_deadline_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Ping(models.Model):
    """One call of a heartbeat's ping URL, its body kept (capped) as the job's log."""

    class Kind(models.TextChoices):
        SUCCESS = "success", "Success"
        START = "start", "Start"
        FAIL = "fail", "Failure"
        LOG = "log", "Log"

    heartbeat = models.ForeignKey(Heartbeat, on_delete=models.CASCADE, related_name="pings")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    exit_status = models.PositiveSmallIntegerField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)
    rid = models.UUIDField(null=True, blank=True)
    body = models.TextField(blank=True, default="")
    remote_addr = models.CharField(max_length=45, blank=True, default="")
    user_agent = models.CharField(max_length=200, blank=True, default="")
    method = models.CharField(max_length=10, blank=True, default="")
    duration = models.DurationField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["heartbeat", "-at"], name="monitoring_ping_last")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M:%S}"


class Probe(models.Model):
    """An HTTP(S) or TCP check that the worker runs every `interval_seconds`.

    Its own source (kind probe) carries its alerts: "down" after `fail_after` failures in a
    row, cleared after `recover_after` successes; "TLS expiry" when the certificate expires
    within `tls_expiry_days`. `next_run_at` is when it is due: workers claim due probes with a
    conditional UPDATE that also takes a lease (`lease`, `leased_until`), so two workers never
    run one at once, and a worker that dies mid-run only delays it until the lease ends."""

    class Kind(models.TextChoices):
        HTTP = "http", "HTTP(S)"
        TCP = "tcp", "TCP port"

    class State(models.TextChoices):
        NEW = "new", "New"
        UP = "up", "Up"
        DOWN = "down", "Down"
        PAUSED = "paused", "Paused"

    class Method(models.TextChoices):
        GET = "GET", "GET"
        HEAD = "HEAD", "HEAD"
        POST = "POST", "POST"
        OPTIONS = "OPTIONS", "OPTIONS"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="probes")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=4, choices=Kind.choices, default=Kind.HTTP)
    source = models.OneToOneField(Source, on_delete=models.CASCADE, related_name="probe")
    config_item = models.ForeignKey(
        ConfigItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # HTTP
    method = models.CharField(max_length=7, choices=Method.choices, default=Method.GET)
    url = models.CharField(max_length=2000, blank=True, default="")
    headers = models.JSONField(default=dict, blank=True)
    expected_status = models.CharField(
        max_length=100, default="200-299", help_text="Codes and ranges, e.g. 200-299,301."
    )
    keyword = models.CharField(max_length=200, blank=True, default="")
    keyword_absent = models.BooleanField(
        default=False, help_text="The keyword must not be in the answer (an error page's text)."
    )
    json_path = models.CharField(max_length=300, blank=True, default="")
    json_expected = models.CharField(
        max_length=500, blank=True, default="", help_text="Empty: the path must find something."
    )
    tls_expiry_days = models.PositiveSmallIntegerField(
        default=14, help_text="Warn this many days before the certificate expires (0: never)."
    )
    # TCP
    host = models.CharField(max_length=253, blank=True, default="")
    port = models.PositiveIntegerField(null=True, blank=True)
    # schedule and thresholds
    timeout_seconds = models.PositiveSmallIntegerField(default=10)
    interval_seconds = models.PositiveIntegerField(default=60)
    fail_after = models.PositiveSmallIntegerField(default=2)
    recover_after = models.PositiveSmallIntegerField(default=1)
    # state
    state = models.CharField(max_length=10, choices=State.choices, default=State.NEW)
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_successes = models.PositiveIntegerField(default=0)
    next_run_at = models.DateTimeField(null=True, blank=True)
    lease = models.CharField(max_length=32, blank=True, default="")
    leased_until = models.DateTimeField(null=True, blank=True)
    tls_alert_firing = models.BooleanField(default=False)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_ok = models.BooleanField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    cert_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = "organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="monitoring_probe_unique_name"
            )
        ]
        indexes = [
            # The scheduler's claim: WHERE next_run_at <= now ORDER BY next_run_at (paused
            # probes have none, so they are not in the index at all).
            models.Index(
                fields=["next_run_at"],
                name="monitoring_probe_due",
                condition=models.Q(next_run_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def target(self) -> str:
        return self.url if self.kind == self.Kind.HTTP else f"{self.host}:{self.port}"


class ProbeResult(models.Model):
    """One run of a probe: kept SUSTAIN_PROBE_RESULT_DAYS days (the uptime of 30 days)."""

    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="results")
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, default="")
    cert_expires_at = models.DateTimeField(null=True, blank=True)
    lag_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="How late the run started after it was due."
    )

    class Meta:
        indexes = [
            # A probe's last results (its page, the API) and the retention purge by age.
            models.Index(fields=["probe", "-at"], name="monitoring_probe_result_last"),
            models.Index(fields=["at"], name="monitoring_probe_result_at"),
        ]

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'failed'} at {self.at:%Y-%m-%d %H:%M:%S}"
