"""Read models of the monitoring pages: the status of watched configuration items (down, in
maintenance, up, with their uptime) and the upcoming occurrences of windows. Shared by the
staff's item page and the customer's status page; callers pass querysets already scoped with
`visible()`, so nothing here widens what a user may see."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from sustain.cmdb.models import ConfigItem
from sustain.core.tenancy import visible
from sustain.monitoring import uptime, windows
from sustain.monitoring.models import Alert, Heartbeat, Source, Window

ITEMS_MAX = 200
UPCOMING_DAYS = 30
UPCOMING_MAX = 50


@dataclass
class ItemStatus:
    item: ConfigItem
    state: str  # down, maintenance, up
    since: datetime | None  # down since (the oldest firing alert's start)
    firing: list[Alert] = field(default_factory=list)
    uptimes: list[tuple[str, uptime.Uptime]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return {"down": "Down", "maintenance": "In maintenance", "up": "Up"}[self.state]


def watched(items: QuerySet[ConfigItem]) -> QuerySet[ConfigItem]:
    """Those of `items` that monitoring watches: a source or heartbeat on them, or an alert."""
    return items.filter(
        Q(pk__in=Source.objects.filter(config_item__isnull=False).values("config_item_id"))
        | Q(pk__in=Heartbeat.objects.filter(config_item__isnull=False).values("config_item_id"))
        | Q(pk__in=Alert.objects.filter(config_item__isnull=False).values("config_item_id"))
    )


def statuses(items: list[ConfigItem], user: Any, now: datetime | None = None) -> list[ItemStatus]:
    """Each item's state now and its uptime, in a fixed number of queries for all of them.

    Only the alerts `user` may see count (an item two customers share shows each their own).
    Down: an alert on it fires and no maintenance window holds it. In maintenance: an
    occurrence of a window covering it (or what it needs) is on, or its firing alert is held.
    """
    now = now or timezone.now()
    ids = {item.pk for item in items}
    firing: dict[int, list[Alert]] = defaultdict(list)
    seen = visible(Alert.objects.filter(config_item_id__in=ids), user)
    for alert in seen.filter(state=Alert.State.FIRING).order_by("starts_at", "id"):
        firing[alert.config_item_id or 0].append(alert)
    per_item, per_org = uptime.maintenance_by_item(
        {item.organization_id for item in items}, ids, now, now + timedelta(microseconds=1)
    )
    figures = uptime.for_items(ids, now=now, user=user)
    result = []
    for item in items:
        alerts = firing.get(item.pk, [])
        open_alerts = [a for a in alerts if a.held_until is None]
        in_window = bool(per_item.get(item.pk) or per_org.get(item.organization_id))
        if open_alerts and not in_window:
            state = "down"
        elif in_window or alerts:
            state = "maintenance"
        else:
            state = "up"
        since = min((a.starts_at for a in open_alerts), default=None) if state == "down" else None
        result.append(ItemStatus(item, state, since, alerts, list(figures[item.pk].items())))
    return result


def upcoming(
    rows: QuerySet[Window], now: datetime | None = None, days: int = UPCOMING_DAYS
) -> list[tuple[Window, datetime, datetime]]:
    """The occurrences of the given windows going on or starting within `days`, soonest first."""
    now = now or timezone.now()
    until = now + timedelta(days=days)
    found = [
        (window, start, end)
        for window in rows.filter(starts_at__lt=until).prefetch_related("config_items")[:500]
        for start, end in windows.occurrences(window, now, until)
    ]
    found.sort(key=lambda o: (o[1], o[0].pk))
    return found[:UPCOMING_MAX]
