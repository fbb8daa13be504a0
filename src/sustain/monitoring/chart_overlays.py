"""What a series' chart draws over its lines: the thresholds of the rules whose selector
matches it, the periods their alert for it was firing, and the deployments to its
configuration item's environment (who deployed which release where, and when).

Everything is read through `visible()` with the viewer, so a chart never shows what its viewer
may not see; each is one or two queries whatever the range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q

from sustain.cmdb.models import ConfigItem, Relation
from sustain.core.tenancy import visible
from sustain.monitoring.models import Alert, AlertEvent, Series, ThresholdRule
from sustain.monitoring.rule_eval import fingerprint, matches
from sustain.releases.models import Deployment

MAX_EVENTS = 2000
MAX_DEPLOYMENTS = 200


@dataclass(frozen=True)
class Threshold:
    rule: str
    level: str  # warning, critical
    value: float
    aggregation: str
    comparison: str

    @property
    def label(self) -> str:
        sign = ">" if self.comparison == "above" else "<"
        return f"{self.rule}: {self.level} ({self.aggregation} {sign} {self.value:g})"


@dataclass(frozen=True)
class Firing:
    rule: str
    start: datetime
    end: datetime | None  # None: still firing
    severity: str


@dataclass(frozen=True)
class Deployed:
    at: datetime
    release: str
    environment: str
    by: str
    status: str

    @property
    def label(self) -> str:
        who = f" by {self.by}" if self.by else ""
        return f"{self.release} → {self.environment}{who} ({self.status})"


def as_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def rules_for(series: Series, user: Any) -> list[ThresholdRule]:
    """The rules of the series' organization whose selector (metric and matchers) matches it."""
    rows = visible(
        ThresholdRule.objects.filter(organization_id=series.organization_id, metric=series.name),
        user,
    ).order_by("name", "id")
    return [r for r in rows if matches(r.matchers, series.labels)]


def thresholds(rules: list[ThresholdRule]) -> list[Threshold]:
    out = []
    for rule in rules:
        for level in ("warning", "critical"):
            value = getattr(rule, level)
            if value is not None:
                out.append(Threshold(rule.name, level, value, rule.aggregation, rule.comparison))
    return out


def firing_periods(
    series: Series, rules: list[ThresholdRule], user: Any, start: int, end: int
) -> list[Firing]:
    """The periods within [start, end) (ms) each rule's alert for the series was firing, from
    the alert's history (firing and resolved events); one still firing runs to the end."""
    if not rules:
        return []
    names = {r.source_id: r.name for r in rules}
    found = visible(
        Alert.objects.filter(source_id__in=names, fingerprint=fingerprint(series.pk)), user
    )
    alerts = {a.pk: a for a in found}
    if not alerts:
        return []
    low, high = as_datetime(start), as_datetime(end)
    events = (
        visible(AlertEvent.objects.filter(alert_id__in=alerts), user)
        .filter(what__in=(AlertEvent.What.FIRING, AlertEvent.What.RESOLVED), at__lt=high)
        .order_by("alert_id", "at", "id")
    )
    # Only the events in the range, plus the last one before it (was it firing at the start?).
    recent = list(events.filter(at__gte=low)[:MAX_EVENTS])
    before = []
    for alert_id in alerts:
        last = events.filter(alert_id=alert_id, at__lt=low).order_by("-at", "-id").first()
        if last is not None:
            before.append(last)
    out: list[Firing] = []
    opened: dict[int, datetime] = {}
    for event in sorted(before + recent, key=lambda e: (e.alert_id, e.at, e.id)):
        if event.what == AlertEvent.What.FIRING:
            opened.setdefault(event.alert_id, max(event.at, low))
        elif event.alert_id in opened:
            alert = alerts[event.alert_id]
            out.append(Firing(names[alert.source_id], opened.pop(event.alert_id), event.at, ""))
    for alert_id, since in opened.items():
        alert = alerts[alert_id]
        still = alert.state == Alert.State.FIRING
        out.append(Firing(names[alert.source_id], since, None if still else high, alert.severity))
    # The severity of a closed period is not kept per event: the alert's last one is told.
    return [
        Firing(f.rule, f.start, f.end, f.severity or _severity(alerts, names, f.rule))
        for f in sorted(out, key=lambda f: f.start)
    ]


def _severity(alerts: dict[int, Alert], names: dict[int, str], rule: str) -> str:
    for alert in alerts.values():
        if names.get(alert.source_id) == rule:
            return alert.severity or "warning"
    return "warning"


def environments(item: ConfigItem | None) -> list[int]:
    """The environments a configuration item is deployed with: itself if it is one, and the
    environments it is part of or runs on (one hop)."""
    if item is None:
        return []
    ids = [item.pk] if item.kind == ConfigItem.Kind.ENVIRONMENT else []
    ids += list(
        Relation.objects.filter(
            source=item,
            kind__in=(Relation.Kind.PART_OF, Relation.Kind.RUNS_ON),
            target__kind=ConfigItem.Kind.ENVIRONMENT,
        ).values_list("target_id", flat=True)
    )
    return ids


def deployments(series: Series, user: Any, start: int, end: int) -> list[Deployed]:
    """The deployments to the series' item's environments that started or finished in
    [start, end) (ms): when, which release, where, by whom, how it ended."""
    envs = environments(series.config_item)
    if not envs:
        return []
    low, high = as_datetime(start), as_datetime(end)
    rows = (
        visible(Deployment.objects.filter(environment_id__in=envs), user)
        .exclude(status=Deployment.Status.SCHEDULED)
        .select_related("release__product", "release__version", "environment", "created_by")
        .order_by("id")
    )
    inside = Q(finished_at__gte=low, finished_at__lt=high) | Q(
        finished_at__isnull=True, started_at__gte=low, started_at__lt=high
    )
    out = []
    for d in rows.filter(inside)[:MAX_DEPLOYMENTS]:
        at = d.finished_at or d.started_at
        if at is None or not low <= at < high:
            continue
        out.append(
            Deployed(
                at=at,
                release=str(d.release),
                environment=d.environment.name,
                by=d.created_by.name if d.created_by else "",
                status=d.get_status_display(),
            )
        )
    return sorted(out, key=lambda d: d.at)
