"""Monitoring: where alerts come from, the alerts themselves and the tokens machines send with.

An alert is one fingerprint of one source: Alertmanager's fingerprint, a heartbeat's or a
probe's own. Its row is unique per (source, fingerprint), so that duplicate and concurrent
deliveries of one alert meet on the database's unique key and open one incident.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils import timezone

from sustain.accounts.models import Organization, User
from sustain.cmdb.models import ConfigItem
from sustain.desk.models import Level, Ticket


class Source(models.Model):
    """Where alerts come from: an Alertmanager, a heartbeat, a probe (and, next, a rule)."""

    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager", "Alertmanager"
        HEARTBEAT = "heartbeat", "Heartbeat"
        PROBE = "probe", "Probe"
        RULE = "rule", "Threshold rule"

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


# --- metric series and samples (monitoring/series.py writes them) ---------------------------
class Series(models.Model):
    """One metric of one organization: a name plus labels (and optionally the configuration
    item it describes), its kind and unit.

    `key` is the SHA-256 of the item, the name and the canonical (sorted, compact) JSON of the
    labels: unique per organization, so two senders of one series meet on the database's key.
    """

    class Kind(models.TextChoices):
        GAUGE = "gauge", "Gauge"
        COUNTER = "counter", "Counter"
        HISTOGRAM = "histogram", "Histogram"

    class Temporality(models.TextChoices):
        CUMULATIVE = "cumulative", "Cumulative"  # each point: the total since the start
        DELTA = "delta", "Delta"  # each point: the change since the previous one

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="series")
    config_item = models.ForeignKey(
        ConfigItem, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=200)
    labels = models.JSONField(default=dict, blank=True)
    key = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    temporality = models.CharField(
        max_length=10,
        choices=Temporality.choices,
        default=Temporality.CUMULATIVE,
        help_text="Of counters and histograms (a gauge's is cumulative).",
    )
    unit = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    last_sample_at = models.DateTimeField(null=True, blank=True)

    tenant_field = "organization"

    class Meta:
        verbose_name_plural = "series"
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="monitoring_series_key")
        ]
        indexes = [
            # The series list: by organization and name.
            models.Index(fields=["organization", "name"], name="monitoring_series_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Sample(models.Model):
    """One point of a gauge or counter: compact (series, time in ms since the epoch, value),
    inserted in bulk with executemany. The primary key is (series, time): one B-tree for the
    row and for reading a range of one series, no id column; a point given twice (an
    exporter's retry) is kept once."""

    pk = models.CompositePrimaryKey("series", "time")
    # db_index=False: the primary key, (series, time), already serves every lookup by series.
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="+", db_index=False)
    time = models.BigIntegerField(help_text="Milliseconds since the Unix epoch, UTC.")
    value = models.FloatField()

    def __str__(self) -> str:
        return f"{self.series_id}@{self.time}={self.value}"


class HistogramSample(models.Model):
    """One point of an explicit-bucket histogram: its bucket bounds and counts as JSON arrays
    (len(counts) == len(bounds) + 1, the last bucket open above), the count and the sum.
    Keyed by (series, time) as samples are."""

    pk = models.CompositePrimaryKey("series", "time")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="+", db_index=False)
    time = models.BigIntegerField(help_text="Milliseconds since the Unix epoch, UTC.")
    count = models.BigIntegerField()
    sum = models.FloatField(null=True, blank=True)
    bounds = models.TextField(help_text="JSON array of the buckets' upper bounds.")
    counts = models.TextField(help_text="JSON array of the buckets' counts.")

    def __str__(self) -> str:
        return f"{self.series_id}@{self.time} n={self.count}"


# --- rollups (monitoring.rollups) -------------------------------------------------------------
class RollupBase(models.Model):
    """Per series and interval (its start, ms since the epoch): the count, min, max, sum and
    last value of the samples in it. Keyed like samples: (series, time)."""

    pk = models.CompositePrimaryKey("series", "time")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="+", db_index=False)
    time = models.BigIntegerField(help_text="The interval's start, ms since the Unix epoch.")
    count = models.BigIntegerField()
    min = models.FloatField()
    max = models.FloatField()
    sum = models.FloatField()
    last = models.FloatField()

    class Meta:
        abstract = True


class MinuteRollup(RollupBase):
    """One minute of a gauge or counter."""

    def __str__(self) -> str:
        return f"{self.series_id}@{self.time} n={self.count}"


class HourRollup(RollupBase):
    """One hour of a gauge or counter (rolled from its minutes)."""

    def __str__(self) -> str:
        return f"{self.series_id}@{self.time} n={self.count}"


class HistogramRollupBase(models.Model):
    """Per histogram series and interval: the merged bucket counts (of the points with the
    interval's last bounds), their count and sum, so percentiles come from merged buckets."""

    pk = models.CompositePrimaryKey("series", "time")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="+", db_index=False)
    time = models.BigIntegerField(help_text="The interval's start, ms since the Unix epoch.")
    count = models.BigIntegerField()
    sum = models.FloatField(null=True, blank=True)
    bounds = models.TextField(help_text="JSON array of the buckets' upper bounds.")
    counts = models.TextField(help_text="JSON array of the merged buckets' counts.")

    class Meta:
        abstract = True


class MinuteHistogram(HistogramRollupBase):
    """One minute of a histogram."""

    def __str__(self) -> str:
        return f"{self.series_id}@{self.time} n={self.count}"


class HourHistogram(HistogramRollupBase):
    """One hour of a histogram (merged from its minutes)."""

    def __str__(self) -> str:
        return f"{self.series_id}@{self.time} n={self.count}"


class RollupCursor(models.Model):
    """The one row of the rollup job: up to where minutes and hours are rolled (ms), and the
    lease a worker takes with a conditional UPDATE so two never roll the same range."""

    name = models.CharField(max_length=20, primary_key=True)
    minutes_to = models.BigIntegerField(null=True, blank=True)
    hours_to = models.BigIntegerField(null=True, blank=True)
    leased_until = models.DateTimeField(default=timezone.now)
    runs = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class LateMinute(models.Model):
    """A minute already rolled that received samples since: rolled again by the next run."""

    pk = models.CompositePrimaryKey("series", "time")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="+", db_index=False)
    time = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.series_id}@{self.time}"


# --- threshold rules (monitoring/rules.py sets them up, monitoring/rule_eval.py runs them) ----
class ThresholdRule(models.Model):
    """A threshold over the series a selector matches (a metric name and label matchers):
    every `interval_seconds` each series' value over the last `window_seconds` (by
    `aggregation`) is compared with the warning and critical thresholds.

    A breach fires after `for_seconds`; a firing level clears only past its recovery threshold
    (hysteresis) and `keep_firing_for_seconds` later; a series without samples for
    `no_data_after_seconds` alerts, turns ok or keeps its level (`no_data`). Its own source
    (kind rule) carries one alert per matched series. `next_eval_at` is when it is due:
    workers claim due rules with a conditional UPDATE that takes a lease (`lease`,
    `leased_until`), so two workers never evaluate one cycle twice; paused rules have none."""

    class Aggregation(models.TextChoices):
        AVG = "avg", "Average"
        MIN = "min", "Minimum"
        MAX = "max", "Maximum"
        SUM = "sum", "Sum"
        COUNT = "count", "Count of samples"
        P50 = "p50", "50th percentile"
        P95 = "p95", "95th percentile"
        P99 = "p99", "99th percentile"
        RATE = "rate", "Rate per second"
        INCREASE = "increase", "Increase"

    class Comparison(models.TextChoices):
        ABOVE = "above", "Above the threshold"
        BELOW = "below", "Below the threshold"

    class NoData(models.TextChoices):
        ALERT = "alert", "Alert"
        OK = "ok", "Ok"
        KEEP = "keep", "Keep the last state"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="threshold_rules"
    )
    name = models.CharField(max_length=200)
    source = models.OneToOneField(Source, on_delete=models.CASCADE, related_name="rule")
    metric = models.CharField(max_length=200, help_text="The series' name.")
    matchers = models.JSONField(
        default=list, blank=True, help_text='[{"label", "op" (=, !=, =~, !~), "value"}]'
    )
    window_seconds = models.PositiveIntegerField(default=300)
    aggregation = models.CharField(max_length=10, choices=Aggregation.choices, default="avg")
    comparison = models.CharField(max_length=5, choices=Comparison.choices, default="above")
    warning = models.FloatField(null=True, blank=True)
    critical = models.FloatField(null=True, blank=True)
    warning_recovery = models.FloatField(
        null=True, blank=True, help_text="Clears past this (empty: the warning threshold)."
    )
    critical_recovery = models.FloatField(
        null=True, blank=True, help_text="Clears past this (empty: the critical threshold)."
    )
    for_seconds = models.PositiveIntegerField(default=0)
    keep_firing_for_seconds = models.PositiveIntegerField(default=0)
    no_data = models.CharField(max_length=5, choices=NoData.choices, default=NoData.KEEP)
    no_data_after_seconds = models.PositiveIntegerField(default=600)
    interval_seconds = models.PositiveIntegerField(default=60)
    paused = models.BooleanField(default=False)
    next_eval_at = models.DateTimeField(null=True, blank=True)
    lease = models.CharField(max_length=32, blank=True, default="")
    leased_until = models.DateTimeField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = "organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="monitoring_rule_unique_name"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_eval_at"],
                name="monitoring_rule_due",
                condition=models.Q(next_eval_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RuleState(models.Model):
    """Where one rule stands for one series it matches: its level, since when a breach is
    pending (for-duration), until when a cleared level keeps firing, the last value."""

    class Level(models.TextChoices):
        OK = "ok", "Ok"
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"
        NODATA = "nodata", "No data"

    rule = models.ForeignKey(ThresholdRule, on_delete=models.CASCADE, related_name="states")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.OK)
    pending_since = models.DateTimeField(null=True, blank=True)
    keep_until = models.DateTimeField(null=True, blank=True)
    value = models.FloatField(null=True, blank=True)
    last_data_at = models.DateTimeField(null=True, blank=True)
    last_evaluated = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "series"], name="monitoring_rule_state_unique")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.series_id}: {self.level}"
