"""Threshold rules over metric series and where each stands for each series it matches."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from sustain.accounts.models import Organization
from sustain.monitoring.models.alerts import Source
from sustain.monitoring.models.metrics import Series
from sustain.monitoring.models.sources import PrometheusSource


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
    `leased_until`), so two workers never evaluate one cycle twice; paused rules have none.

    A rule with a `prometheus` source takes its values from that server instead: its
    `expression` (PromQL) is asked as an instant query each cycle, one state per element of
    the answer (metric, matchers, window and aggregation are then unused); `last_error` is
    the last query's failure, empty when it answered."""

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
    metric = models.CharField(max_length=200, blank=True, default="", help_text="The series' name.")
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
    prometheus = models.ForeignKey(
        PrometheusSource,
        on_delete=models.RESTRICT,  # not deleted under its rules (but with its organization)
        null=True,
        blank=True,
        related_name="rules",
    )
    expression = models.TextField(blank=True, default="", help_text="PromQL (instant query).")
    last_error = models.CharField(max_length=500, blank=True, default="")
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

    @property
    def shown_labels(self) -> dict:
        return self.series.labels
