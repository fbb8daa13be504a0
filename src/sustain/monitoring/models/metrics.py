"""Metric series, their raw samples and their 1-minute and 1-hour rollups."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from sustain.accounts.models import Organization
from sustain.cmdb.models import ConfigItem


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
    last value of the samples in it. Keyed like samples: (series, time).

    `first` and `increase` (the sum of the differences of its consecutive points, a drop
    counting the new value: a counter reset) let a counter's increase over a run of intervals
    be computed exactly: the intervals' increases plus, between neighbours, the step from one's
    last to the next's first. Empty on rows rolled before they existed."""

    pk = models.CompositePrimaryKey("series", "time")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="+", db_index=False)
    time = models.BigIntegerField(help_text="The interval's start, ms since the Unix epoch.")
    count = models.BigIntegerField()
    min = models.FloatField()
    max = models.FloatField()
    sum = models.FloatField()
    last = models.FloatField()
    first = models.FloatField(null=True, blank=True)
    increase = models.FloatField(null=True, blank=True)

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
