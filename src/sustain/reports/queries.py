"""Read side of the SLA reports: compliance, response times in business hours, breaches.

Everything is counted in the database, grouped by month, customer, priority and metric over
the clocks the user may see (`visible`); Python only reshapes the few aggregated rows.

A clock is *met* when it stopped within its target, *breached* when the sweep marked it so or
when it stopped after its target before the sweep noticed (its business time is over target),
and *in progress* while running or paused, unless its ticket was cancelled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from sustain.accounts.models import Organization
from sustain.core import instants
from sustain.core.errors import Invalid
from sustain.core.models import Priority
from sustain.core.tenancy import visible
from sustain.desk.models import Status, Ticket
from sustain.sla.models import Clock, Metric

METRIC_ORDER = (Metric.FIRST_RESPONSE, Metric.RESOLUTION, Metric.NEXT_UPDATE)
MAX_MONTHS = 36

MET = Q(state=Clock.State.MET, elapsed_seconds__lte=F("target_seconds"))
BREACHED = Q(state=Clock.State.BREACHED) | Q(
    state=Clock.State.MET, elapsed_seconds__gt=F("target_seconds")
)
IN_PROGRESS = Q(state__in=[Clock.State.RUNNING, Clock.State.PAUSED]) & ~Q(
    ticket__status=Status.CANCELLED
)

_MONTH = re.compile(r"\d{4}-\d{1,2}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class ReportFilters:
    """Which clocks a report counts: by customer, priority, metric and ticket creation time.

    `since` is inclusive and `until` exclusive; both are aware instants."""

    organization: str = ""
    priority: int | None = None
    metric: str = ""
    since: datetime | None = None
    until: datetime | None = None
    zone: tzinfo = UTC

    @classmethod
    def from_params(
        cls, params: Mapping[str, Any], user: Any, *, now: datetime | None = None
    ) -> ReportFilters:
        """From a query string (web) or a ninja schema's dict (API); names the bad field.

        since/until take a month (2026-09), a day (2026-09-15) or an ISO 8601 time; an until
        month or day includes the whole of it. months=N means the last N months, this one
        included. Months and days are in the user's time zone."""
        zone = user_zone(user)
        get = params.get
        organization = str(get("organization") or "").strip()
        if (
            organization
            and not visible(Organization.objects.filter(slug=organization), user).exists()
        ):
            raise Invalid(f"No customer '{organization}'.", field="organization")
        priority = get("priority")
        if priority in (None, ""):
            priority = None
        else:
            try:
                priority = int(priority)
            except (TypeError, ValueError):
                priority = 0
            if priority not in Priority.values:
                raise Invalid("priority must be 1, 2, 3 or 4.", field="priority")
        metric = str(get("metric") or "")
        if metric and metric not in Metric.values:
            raise Invalid(f"metric must be one of {', '.join(Metric.values)}.", field="metric")
        since = _bound(get("since"), "since", zone, end=False)
        until = _bound(get("until"), "until", zone, end=True)
        months = get("months")
        if months not in (None, ""):
            if since is not None:
                raise Invalid("Give months or since, not both.", field="months")
            try:
                count = int(months)
            except (TypeError, ValueError):
                count = 0
            if not 1 <= count <= MAX_MONTHS:
                raise Invalid(f"months must be between 1 and {MAX_MONTHS}.", field="months")
            this_month = (now or timezone.now()).astimezone(zone).date().replace(day=1)
            since = datetime.combine(_add_months(this_month, 1 - count), time.min, tzinfo=zone)
        if since is not None and until is not None and since >= until:
            raise Invalid("until must come after since.", field="until")
        return cls(organization, priority, metric, since, until, zone)


def user_zone(user: Any) -> tzinfo:
    """The user's own time zone, in which months begin and end; UTC when none is set."""
    name = getattr(user, "time_zone", "") or ""
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _bound(value: Any, name: str, zone: tzinfo, *, end: bool) -> datetime | None:
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else value.replace(tzinfo=zone)
    text = str(value or "").strip()
    if not text:
        return None
    try:
        if _MONTH.fullmatch(text):
            year, month = (int(part) for part in text.split("-"))
            day = date(year, month, 1)
            return datetime.combine(_add_months(day, 1) if end else day, time.min, tzinfo=zone)
        if _DAY.fullmatch(text):
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1) if end else day, time.min, tzinfo=zone)
        parsed = instants.parse_datetime(text)
    except (ValueError, OverflowError):  # instants.BadInstant is a ValueError
        raise Invalid(
            f"{name} must be a month (2026-11), a day (2026-11-30) or an ISO 8601 time.",
            field=name,
        ) from None
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=zone)


def clocks_for(user: Any, filters: ReportFilters) -> QuerySet[Clock]:
    """The clocks `user` may see whose tickets match `filters`."""
    qs = visible(Clock.objects.all(), user)
    if filters.organization:
        qs = qs.filter(ticket__organization__slug=filters.organization)
    if filters.priority:
        qs = qs.filter(ticket__priority=filters.priority)
    if filters.metric:
        qs = qs.filter(metric=filters.metric)
    if filters.since is not None:
        qs = qs.filter(ticket__created_at__gte=filters.since)
    if filters.until is not None:
        qs = qs.filter(ticket__created_at__lt=filters.until)
    return qs


# --- compliance -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Compliance:
    month: str  # "2026-11", in the user's time zone
    organization: str
    organization_name: str
    priority: int
    metric: str
    met: int
    breached: int
    in_progress: int

    @property
    def compliance(self) -> float | None:
        """met / (met + breached); None while nothing is decided."""
        decided = self.met + self.breached
        return round(self.met / decided, 4) if decided else None


def compliance(user: Any, filters: ReportFilters) -> list[Compliance]:
    """Met, breached and in-progress clocks per month of ticket creation, customer, priority
    and metric: one GROUP BY query."""
    rows = (
        clocks_for(user, filters)
        .annotate(month=TruncMonth("ticket__created_at", tzinfo=filters.zone))
        .values(
            "month",
            "ticket__organization__slug",
            "ticket__organization__name",
            "ticket__priority",
            "metric",
        )
        .annotate(
            met=Count("pk", filter=MET),
            breached=Count("pk", filter=BREACHED),
            in_progress=Count("pk", filter=IN_PROGRESS),
        )
        .order_by("month", "ticket__organization__name", "ticket__priority", "metric")
    )
    result = [
        Compliance(
            month=f"{row['month'].astimezone(filters.zone):%Y-%m}",
            organization=row["ticket__organization__slug"],
            organization_name=row["ticket__organization__name"],
            priority=row["ticket__priority"],
            metric=row["metric"],
            met=row["met"],
            breached=row["breached"],
            in_progress=row["in_progress"],
        )
        for row in rows
    ]
    return [r for r in result if r.met or r.breached or r.in_progress]


@dataclass(frozen=True)
class Total:
    metric: str
    met: int
    breached: int
    in_progress: int

    @property
    def compliance(self) -> float | None:
        decided = self.met + self.breached
        return round(self.met / decided, 4) if decided else None


def totals(rows: list[Compliance]) -> list[Total]:
    """Per metric over all the rows (already aggregated), in display order."""
    sums: dict[str, list[int]] = {}
    for row in rows:
        acc = sums.setdefault(row.metric, [0, 0, 0])
        acc[0] += row.met
        acc[1] += row.breached
        acc[2] += row.in_progress
    return [Total(m, *sums[m]) for m in METRIC_ORDER if m in sums]


def month_labels(rows: list[Compliance], filters: ReportFilters, now: datetime) -> list[str]:
    """The months to chart: every month of the filtered span (when it is not too long),
    plus any month that has rows."""
    months = {row.month for row in rows}
    if filters.since is not None:
        first = filters.since.astimezone(filters.zone).date().replace(day=1)
        end = filters.until or now
        last = (end - timedelta(microseconds=1)).astimezone(filters.zone).date().replace(day=1)
        span = (last.year - first.year) * 12 + last.month - first.month + 1
        if 0 < span <= MAX_MONTHS:
            months.update(f"{_add_months(first, i):%Y-%m}" for i in range(span))
    return sorted(months)


def by_month(rows: list[Compliance], metric: str, months: list[str]) -> dict[str, list[int]]:
    """Met, breached and in-progress series of one metric, one value per month."""
    series = {
        "met": [0] * len(months),
        "breached": [0] * len(months),
        "in progress": [0] * len(months),
    }
    index = {m: i for i, m in enumerate(months)}
    for row in rows:
        if row.metric != metric or row.month not in index:
            continue
        i = index[row.month]
        series["met"][i] += row.met
        series["breached"][i] += row.breached
        series["in progress"][i] += row.in_progress
    return series


# --- time to acknowledge and to resolve -----------------------------------------------------
@dataclass
class Times:
    organization: str
    organization_name: str
    priority: int
    acknowledged: int = 0
    acknowledge_hours: float | None = None
    resolved: int = 0
    resolve_hours: float | None = None


def times(user: Any, filters: ReportFilters) -> list[Times]:
    """Mean business hours to first response and to resolution per customer and priority.

    The clock's elapsed_seconds is business time counted while not paused; a clock counts once
    it stopped (met in time or late). One GROUP BY query."""
    rows = (
        clocks_for(user, replace(filters, metric=""))
        .filter(metric__in=[Metric.FIRST_RESPONSE, Metric.RESOLUTION], met_at__isnull=False)
        .values(
            "ticket__organization__slug",
            "ticket__organization__name",
            "ticket__priority",
            "metric",
        )
        .annotate(count=Count("pk"), mean=Avg("elapsed_seconds"))
        .order_by("ticket__organization__name", "ticket__priority", "metric")
    )
    result: dict[tuple[str, int], Times] = {}
    for row in rows:
        key = (row["ticket__organization__slug"], row["ticket__priority"])
        entry = result.get(key)
        if entry is None:
            entry = result[key] = Times(key[0], row["ticket__organization__name"], key[1])
        hours = round(row["mean"] / 3600, 2) if row["mean"] is not None else None
        if row["metric"] == Metric.FIRST_RESPONSE:
            entry.acknowledged, entry.acknowledge_hours = row["count"], hours
        else:
            entry.resolved, entry.resolve_hours = row["count"], hours
    return list(result.values())


# --- breaches -------------------------------------------------------------------------------
BREACH_ORDER = ("-started_at",)


def breaches(user: Any, filters: ReportFilters) -> QuerySet[Clock]:
    """Breached clocks of the tickets `user` may read (customers who see only their own
    tickets see only those), newest first once paginated with BREACH_ORDER."""
    return (
        clocks_for(user, filters)
        .filter(BREACHED)
        .filter(ticket__in=visible(Ticket.objects.all(), user))
        .select_related("ticket__organization")
    )


@dataclass(frozen=True)
class Breach:
    ticket: str
    title: str
    organization: str
    organization_name: str
    priority: int
    metric: str
    due_at: datetime | None
    breached_at: datetime | None
    met_at: datetime | None
    late_seconds: int

    @property
    def still_open(self) -> bool:
        return self.met_at is None


def breach(clock: Clock, now: datetime) -> Breach:
    """How late a breached clock is: from its due time to when it was met, or to now while it
    is not. A clock met late before the sweep marked it has no recorded due time; its
    lateness is the business time over its target."""
    ticket = clock.ticket
    if clock.breached_at is not None:
        late = ((clock.met_at or now) - clock.breached_at).total_seconds()
    else:
        late = clock.elapsed_seconds - clock.target_seconds
    return Breach(
        ticket=ticket.key,
        title=ticket.title,
        organization=ticket.organization.slug,
        organization_name=ticket.organization.name,
        priority=ticket.priority,
        metric=clock.metric,
        due_at=clock.breached_at,
        breached_at=clock.breached_at,
        met_at=clock.met_at,
        late_seconds=max(round(late), 0),
    )
