"""A month of window occurrences as a calendar: weeks of days, each day with what is on.

Occurrences come from `windows.occurrences` (each window's RRULE read in its own time zone);
the days are those of the viewer's time zone, so a window at 02:00 in Berlin shows on the
Sunday a Berliner expects and on Saturday evening for someone in New York. An occurrence
across midnight is on each day it touches. Change windows and freeze periods (the same model)
are laid out the same way.
"""

from __future__ import annotations

import calendar as stdlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from django.db.models import QuerySet

from sustain.core.errors import Invalid
from sustain.monitoring import windows
from sustain.monitoring.models import Window

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
WINDOWS_MAX = 500  # windows expanded for one month
PER_DAY_MAX = 20  # occurrences listed in one day's cell


@dataclass(frozen=True)
class Occurrence:
    window: Window
    start: datetime  # in the viewer's time zone
    end: datetime


@dataclass
class Day:
    day: date
    in_month: bool
    today: bool
    entries: list[Occurrence] = field(default_factory=list)


@dataclass
class Month:
    first: date
    weeks: list[list[Day]]
    occurrences: list[Occurrence]

    @property
    def previous(self) -> str:
        return f"{(self.first - timedelta(days=1)):%Y-%m}"

    @property
    def next(self) -> str:
        return f"{(self.first + timedelta(days=31)).replace(day=1):%Y-%m}"


def parse_month(text: str, today: date) -> date:
    """'2026-12' → 1 December 2026; empty → this month; else a 400 naming `month`."""
    if not text:
        return today.replace(day=1)
    match = MONTH.match(text)
    if not match or not 1 <= int(match[2]) <= 12 or not 1970 <= int(match[1]) <= 2200:
        raise Invalid("month must be a month as YYYY-MM, e.g. 2026-12.", field="month")
    return date(int(match[1]), int(match[2]), 1)


def month(rows: QuerySet[Window], first: date, zone: tzinfo, today: date) -> Month:
    """The month of `first` in weeks from Monday, with the occurrences of `rows` on each day."""
    weeks_of_days = stdlib.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    grid_start, grid_end = weeks_of_days[0][0], weeks_of_days[-1][-1] + timedelta(days=1)
    after = datetime.combine(grid_start, datetime.min.time(), zone)
    before = datetime.combine(grid_end, datetime.min.time(), zone)
    found: list[Occurrence] = []
    for window in rows.filter(starts_at__lt=before)[:WINDOWS_MAX]:
        for start, end in windows.occurrences(window, after, before):
            found.append(Occurrence(window, start.astimezone(zone), end.astimezone(zone)))
    found.sort(key=lambda o: (o.start, o.window.pk))
    days = {d: Day(d, d.month == first.month, d == today) for week in weeks_of_days for d in week}
    for occurrence in found:
        day = occurrence.start.date()
        last = (occurrence.end - timedelta(microseconds=1)).date()
        while day <= last:
            if day in days and len(days[day].entries) < PER_DAY_MAX:
                days[day].entries.append(occurrence)
            day += timedelta(days=1)
    weeks = [[days[d] for d in week] for week in weeks_of_days]
    in_month = [o for o in found if o.end.date() >= first and o.start.date() < _next(first)]
    return Month(first, weeks, in_month)


def _next(first: date) -> date:
    return (first + timedelta(days=31)).replace(day=1)
