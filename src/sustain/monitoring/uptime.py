"""Uptime over the last 24 hours, 7 days and 30 days, from the alerts' history.

A source (a heartbeat, a probe, an Alertmanager) is down while one of its alerts fires: from
each `firing` event of the alert's history to the `resolved` that follows (or to now). An
alert with no event in the 30 days and firing now has fired all along. A configuration item
is down while an alert on it fires, whatever its source.

Planned maintenance is not downtime: firing time inside an occurrence of a maintenance window
that covers the alert's item (the item itself, something it needs, or the whole organization:
the same cover as `windows.holding`) is counted apart, as `maintenance`, and counts as up. The
period observed starts when monitoring did (the source's creation, the item's first source or
alert), so a heartbeat made yesterday is not 100 % over 30 days on days nobody watched.

All of it for many sources or items at once, in a fixed number of queries: the alerts, their
events in the 30 days, the maintenance windows and one query per level of the CMDB walk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from sustain.cmdb import graph
from sustain.core.tenancy import visible
from sustain.monitoring import windows
from sustain.monitoring.models import Alert, AlertEvent, Source, Window

Interval = tuple[datetime, datetime]
SPANS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
LONGEST = max(SPANS.values())
STATE_EVENTS = (AlertEvent.What.FIRING, AlertEvent.What.RESOLVED)


@dataclass(frozen=True)
class Uptime:
    """One span's figures; `percent` is None when nothing was observed in it."""

    percent: float | None
    down: timedelta
    maintenance: timedelta  # firing inside maintenance windows: counted as up
    observed: timedelta

    @property
    def label(self) -> str:
        if self.percent is None:
            return "—"
        if self.percent >= 100:
            return "100 %"
        return f"{min(self.percent, 99.99):.2f} %"  # never rounds a short outage up to 100


Uptimes = dict[str, Uptime]  # by span name ("24h", "7d", "30d")


# --- interval arithmetic ----------------------------------------------------------------------
def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint, non-empty intervals covering exactly what the given ones cover."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract(base: Iterable[Interval], cut: Iterable[Interval]) -> list[Interval]:
    """What of `base` lies outside `cut`."""
    cuts = union(cut)
    result: list[Interval] = []
    for start, end in union(base):
        for cut_start, cut_end in cuts:
            if cut_end <= start or cut_start >= end:
                continue
            if cut_start > start:
                result.append((start, cut_start))
            start = max(start, cut_end)
            if start >= end:
                break
        if start < end:
            result.append((start, end))
    return result


def clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    return union((max(a, start), min(b, end)) for a, b in intervals)


def total(intervals: Iterable[Interval]) -> timedelta:
    return sum((b - a for a, b in union(intervals)), timedelta())


def measure(
    firing: Sequence[tuple[list[Interval], list[Interval]]],
    since: datetime | None,
    now: datetime,
) -> Uptimes:
    """The spans' figures from (firing intervals, maintenance intervals) per alert, observed
    from `since` (None: not monitored at all)."""
    result: Uptimes = {}
    for name, span in SPANS.items():
        start = now - span if since is None else max(now - span, since)
        if since is None or start >= now:
            result[name] = Uptime(None, timedelta(), timedelta(), timedelta())
            continue
        fired = [clip(f, start, now) for f, _m in firing]
        down = union(i for f, (_f, m) in zip(fired, firing, strict=True) for i in subtract(f, m))
        lost = total(down)
        planned = total(i for f in fired for i in f) - lost
        observed = now - start
        percent = 100.0 * (1 - lost / observed)
        result[name] = Uptime(percent, lost, planned, observed)
    return result


# --- from the database ------------------------------------------------------------------------
def _firing_intervals(
    alerts: Sequence[Alert], start: datetime, now: datetime
) -> dict[int, list[Interval]]:
    """Each alert's firing intervals since `start`, from its history (one query)."""
    events: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    rows = (
        AlertEvent.objects.filter(
            alert_id__in=[a.pk for a in alerts], what__in=STATE_EVENTS, at__gte=start
        )
        .order_by("alert_id", "at", "id")
        .values_list("alert_id", "at", "what")
    )
    for alert_id, at, what in rows:
        events[alert_id].append((at, what))
    result: dict[int, list[Interval]] = {}
    for alert in alerts:
        seen = events.get(alert.pk, [])
        intervals: list[Interval] = []
        # Firing at the start: its first change in the span is a resolution, or it has none
        # and fires now.
        opened: datetime | None = None
        before = alert.first_seen_at < start  # else its first event is its creation
        if before and (
            (seen and seen[0][1] == AlertEvent.What.RESOLVED)
            or (not seen and alert.state == Alert.State.FIRING)
        ):
            opened = start
        for at, what in seen:
            if what == AlertEvent.What.FIRING and opened is None:
                opened = at
            elif what == AlertEvent.What.RESOLVED and opened is not None:
                intervals.append((opened, at))
                opened = None
        if opened is not None:
            intervals.append((opened, now))
        result[alert.pk] = union(intervals)
    return result


def maintenance_by_item(
    organization_ids: set[int], item_ids: set[int], start: datetime, now: datetime
) -> tuple[dict[int, list[Interval]], dict[int, list[Interval]]]:
    """Maintenance occurrences overlapping [start, now): per item (its windows and those on
    what it needs), and per organization (its whole-organization windows)."""
    found = list(
        Window.objects.filter(
            organization_id__in=organization_ids,
            purpose=Window.Purpose.MAINTENANCE,
            starts_at__lt=now,
        ).prefetch_related("config_items")
    )
    per_org: dict[int, list[Interval]] = defaultdict(list)
    per_item: dict[int, list[Interval]] = defaultdict(list)
    groups: dict[int, set[int]] = {}
    spans: dict[int, list[Interval]] = {}
    for window in found:
        spans[window.pk] = list(windows.occurrences(window, start, now))
        if window.whole_organization:
            per_org[window.organization_id] += spans[window.pk]
        else:
            groups[window.pk] = {ci.pk for ci in window.config_items.all()}
    for window_id, covered in graph.downstream_of_each(groups).items():
        for item_id in covered & item_ids:
            per_item[item_id] += spans[window_id]
    return per_item, per_org


def _measure_groups(
    alerts_of: dict[int, list[Alert]], since: dict[int, datetime | None], now: datetime
) -> dict[int, Uptimes]:
    start = now - LONGEST
    alerts = [a for group in alerts_of.values() for a in group]
    firing = _firing_intervals(alerts, start, now)
    per_item, per_org = maintenance_by_item(
        {a.organization_id for a in alerts},
        {a.config_item_id for a in alerts if a.config_item_id is not None},
        start,
        now,
    )
    result = {}
    for key, group in alerts_of.items():
        pairs = [
            (
                firing[a.pk],
                per_org.get(a.organization_id, []) + per_item.get(a.config_item_id or 0, []),
            )
            for a in group
        ]
        result[key] = measure(pairs, since.get(key), now)
    return result


def for_sources(sources: Iterable[Source], now: datetime | None = None) -> dict[int, Uptimes]:
    """{source id: uptimes} for all the given sources, in a fixed number of queries."""
    now = now or timezone.now()
    sources = list(sources)
    alerts_of: dict[int, list[Alert]] = {s.pk: [] for s in sources}
    for alert in Alert.objects.filter(source_id__in=list(alerts_of)).only(
        "pk", "source_id", "organization_id", "config_item_id", "state", "first_seen_at"
    ):
        alerts_of[alert.source_id].append(alert)
    return _measure_groups(alerts_of, {s.pk: s.created_at for s in sources}, now)


def for_items(
    item_ids: Iterable[int], now: datetime | None = None, user: Any = None
) -> dict[int, Uptimes]:
    """{item id: uptimes} from the alerts on each item (those `user` may see, when given: an
    item two customers share counts only the reader's), observed since its first source or
    alert; an item nothing watches has no figures (percent None)."""
    now = now or timezone.now()
    alerts_seen = Alert.objects.all() if user is None else visible(Alert.objects.all(), user)
    sources_seen = Source.objects.all() if user is None else visible(Source.objects.all(), user)
    ids = set(item_ids)
    alerts_of: dict[int, list[Alert]] = {pk: [] for pk in ids}
    since: dict[int, datetime | None] = dict.fromkeys(ids)

    def earlier(key: int, moment: datetime) -> None:
        current = since.get(key)
        since[key] = moment if current is None else min(current, moment)

    for alert in alerts_seen.filter(config_item_id__in=ids).only(
        "pk", "source_id", "organization_id", "config_item_id", "state", "first_seen_at"
    ):
        assert alert.config_item_id is not None
        alerts_of[alert.config_item_id].append(alert)
        earlier(alert.config_item_id, alert.first_seen_at)
    watched = sources_seen.filter(config_item_id__in=ids).values_list(
        "config_item_id", "created_at"
    )
    for item_id, created_at in watched:
        earlier(item_id, created_at)
    return _measure_groups(alerts_of, since, now)
