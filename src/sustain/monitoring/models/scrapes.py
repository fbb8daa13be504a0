"""Scrape jobs: Prometheus text-format endpoints that the worker reads every interval, their
samples written as the organization's series (monitoring.scrape_runs)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from sustain.accounts.models import Organization
from sustain.cmdb.models import ConfigItem
from sustain.monitoring.models.alerts import Source


class ScrapeJob(models.Model):
    """A `/metrics` endpoint read every `interval_seconds` within `timeout_seconds`.

    Its samples become series labelled `job` (the name), `instance` (host:port) and the
    extra `labels`. Its own source (kind scrape) carries one alert, firing after a failed
    scrape and resolved by the next good one. Due jobs are claimed like probes: `next_run_at`
    and a lease (`lease`, `leased_until`) taken with a conditional UPDATE."""

    class Status(models.TextChoices):
        NEW = "new", "Not scraped yet"
        OK = "ok", "Up"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="scrape_jobs"
    )
    name = models.CharField(max_length=100)
    source = models.OneToOneField(Source, on_delete=models.CASCADE, related_name="scrape_job")
    config_item = models.ForeignKey(
        ConfigItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    url = models.CharField(max_length=2000)
    interval_seconds = models.PositiveIntegerField(default=60)
    timeout_seconds = models.PositiveSmallIntegerField(default=10)
    labels = models.JSONField(default=dict, blank=True)
    paused = models.BooleanField(default=False)
    next_run_at = models.DateTimeField(null=True, blank=True)
    lease = models.CharField(max_length=32, blank=True, default="")
    leased_until = models.DateTimeField(null=True, blank=True)
    # the last run
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_samples = models.PositiveIntegerField(null=True, blank=True)
    last_series = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = "organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="monitoring_scrapejob_unique_name"
            )
        ]
        indexes = [
            # The scheduler's claim: WHERE next_run_at <= now ORDER BY next_run_at (paused
            # jobs have none, so they are not in the index at all).
            models.Index(
                fields=["next_run_at"],
                name="monitoring_scrapejob_due",
                condition=models.Q(next_run_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name
