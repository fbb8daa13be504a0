"""Data sources a threshold rule may take its values from instead of Sustain's own series: a
Prometheus server, asked an instant query over its HTTP API (monitoring/rule_prometheus.py),
and where such a rule stands for each element of the answer."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from sustain.accounts.models import Organization
from sustain.core.sealing import SealedTextField


class PrometheusSource(models.Model):
    """A Prometheus server of an organization: its base URL (the API is under
    `/api/v1/`), how Sustain proves itself (a bearer token, or a user name and password;
    both secrets sealed at rest) and how long one query may take. `checked_at` and
    `check_error` keep the last "test connection" (empty error: it answered)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="prometheus_sources"
    )
    name = models.CharField(max_length=200)
    base_url = models.CharField(max_length=500, help_text="e.g. https://prometheus.example.com")
    bearer_token = SealedTextField(max_length=2000, blank=True, default="")  # sealed at rest
    username = models.CharField(max_length=200, blank=True, default="")
    password = SealedTextField(max_length=500, blank=True, default="")  # sealed at rest
    timeout_seconds = models.PositiveIntegerField(default=10)
    checked_at = models.DateTimeField(null=True, blank=True)
    check_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = "organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="monitoring_prometheus_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class PrometheusState(models.Model):
    """Where a Prometheus rule stands for one element of its query's answer (RuleState's
    twin, stepped by the same rule_eval.step): named by `key`, a digest of the rule and the
    element's sorted labels, which is also its alert's fingerprint; the element's `labels`
    (bounded) kept to show. A state without labels stands for a scalar answer, or for the query
    itself while it fails."""

    class Level(models.TextChoices):
        OK = "ok", "Ok"
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"
        NODATA = "nodata", "No data"

    rule = models.ForeignKey(
        "monitoring.ThresholdRule", on_delete=models.CASCADE, related_name="prometheus_states"
    )
    key = models.CharField(max_length=64)
    labels = models.JSONField(default=dict, blank=True)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.OK)
    pending_since = models.DateTimeField(null=True, blank=True)
    keep_until = models.DateTimeField(null=True, blank=True)
    value = models.FloatField(null=True, blank=True)
    last_data_at = models.DateTimeField(null=True, blank=True)
    last_evaluated = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "key"], name="monitoring_prom_state_unique")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.key}: {self.level}"

    @property
    def shown_labels(self) -> dict:
        return self.labels

    @property
    def fingerprint(self) -> str:
        return self.key
