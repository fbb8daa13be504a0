"""Dashboards: the key metrics a team pins on an organization's or a configuration item's
dashboard, in order."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from sustain.accounts.models import Organization
from sustain.cmdb.models import ConfigItem
from sustain.monitoring.models.metrics import Series


class DashboardPin(models.Model):
    """One chart on a dashboard: a series, or a selector (a metric name and label matchers)
    whose series are folded into one line (histograms' buckets merged, counters' rates summed,
    gauges averaged), optionally reduced to one aggregation. No item: the organization's
    dashboard; an item: that item's."""

    class Aggregation(models.TextChoices):
        DEFAULT = "", "The chart's own lines"
        AVG = "avg", "Average"
        MIN = "min", "Minimum"
        MAX = "max", "Maximum"
        RATE = "rate", "Rate per second"
        P50 = "p50", "50th percentile"
        P95 = "p95", "95th percentile"
        P99 = "p99", "99th percentile"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="dashboard_pins"
    )
    config_item = models.ForeignKey(
        ConfigItem, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    series = models.ForeignKey(
        Series, null=True, blank=True, on_delete=models.CASCADE, related_name="pins"
    )
    metric = models.CharField(max_length=200, blank=True, default="", help_text="A selector's.")
    matchers = models.JSONField(
        default=list, blank=True, help_text='A selector\'s [{"label", "op", "value"}].'
    )
    aggregation = models.CharField(
        max_length=4, choices=Aggregation.choices, blank=True, default=""
    )
    title = models.CharField(max_length=200, blank=True, default="")
    position = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = "organization"

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(series__isnull=False) | ~models.Q(metric=""),
                name="monitoring_pin_series_or_selector",
            )
        ]
        indexes = [
            # A dashboard's pins in order: by organization and item.
            models.Index(
                fields=["organization", "config_item", "position"], name="monitoring_pin_order"
            )
        ]

    def __str__(self) -> str:
        return self.title or (self.metric or f"series {self.series_id}")
