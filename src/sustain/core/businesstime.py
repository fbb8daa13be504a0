"""Business-time arithmetic: the one module that adds and measures working time.

A `Schedule` is a time zone, weekly working intervals in local wall-clock time and a set of
holiday dates (or "always": 24×7). Intervals are turned into UTC instants day by day, so
daylight-saving changes are exact: a working day from 00:00 to 24:00 on the night clocks go
forward has 23 hours. Times are aware datetimes; results are in UTC.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 366 * 5  # a schedule with almost no working time still answers within five years


class ScheduleError(ValueError):
    """The schedule cannot be used: no working time, overlapping or reversed intervals."""


@dataclass(frozen=True)
class Schedule:
    timezone: str = "UTC"
    # weekday 0 (Monday) … 6 → sorted, non-overlapping (start, end) wall-clock times;
    # an end of time(0) means midnight at the end of the day.
    hours: dict[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    always: bool = False

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # raises for an unknown zone
        if self.always:
            return
        if not any(self.hours.get(d) for d in range(7)):
            raise ScheduleError("The calendar has no working hours.")
        for day, intervals in self.hours.items():
            previous_end = time(0)
            for start, end in intervals:
                end_minutes = 24 * 60 if end == time(0) else end.hour * 60 + end.minute
                start_minutes = start.hour * 60 + start.minute
                if end_minutes <= start_minutes:
                    raise ScheduleError(
                        f"{WEEKDAYS[day]}: {start:%H:%M}–{end:%H:%M} ends before it starts."
                    )
                if start < previous_end:
                    raise ScheduleError(f"{WEEKDAYS[day]}: intervals overlap at {start:%H:%M}.")
                previous_end = end if end != time(0) else time.max

    # Per-year tables of cumulative working seconds, built on first use (not part of equality).
    _years: dict[int, _Year] = field(default_factory=dict, compare=False, repr=False)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def day_intervals(
        self, day: date, zone: ZoneInfo | None = None
    ) -> list[tuple[datetime, datetime]]:
        """The working intervals of one local day, in UTC."""
        zone = zone or self.zone
        if day in self.holidays:
            return []
        if self.always:
            return [(_utc(day, time(0), zone), _utc(day + timedelta(days=1), time(0), zone))]
        spans = []
        for start, end in self.hours.get(day.weekday(), ()):
            end_day = day + timedelta(days=1) if end == time(0) else day
            spans.append((_utc(day, start, zone), _utc(end_day, end, zone)))
        return spans

    def intervals_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals in UTC, in order, from the local day of `instant` on."""
        zone = self.zone
        day = instant.astimezone(zone).date() - timedelta(
            days=1
        )  # an interval may cross midnight UTC
        for _ in range(MAX_DAYS):
            yield from self.day_intervals(day, zone)
            day += timedelta(days=1)
        raise ScheduleError("No working time within five years.")

    def year(self, number: int) -> _Year:
        table = self._years.get(number)
        if table is None:
            table = self._years[number] = _Year.build(self, number)
        return table

    def position(self, instant: datetime) -> tuple[int, float]:
        """(local year, working seconds from that year's start to `instant`)."""
        day = instant.astimezone(self.zone).date()
        table = self.year(day.year)
        index = (day - table.first).days
        seconds = table.cumulative[index]
        for start, end in table.intervals[index]:
            if instant > start:
                seconds += (min(instant, end) - start).total_seconds()
        return day.year, seconds


@dataclass
class _Year:
    """One local calendar year: each day's intervals and the working seconds before each day."""

    first: date
    intervals: list[list[tuple[datetime, datetime]]]
    cumulative: list[float]  # cumulative[i]: working seconds before day i; last: the year's total

    @property
    def total(self) -> float:
        return self.cumulative[-1]

    @classmethod
    def build(cls, schedule: Schedule, number: int) -> _Year:
        zone = schedule.zone
        first = date(number, 1, 1)
        days = (date(number + 1, 1, 1) - first).days
        intervals = [schedule.day_intervals(first + timedelta(days=i), zone) for i in range(days)]
        cumulative = [0.0]
        for spans in intervals:
            cumulative.append(cumulative[-1] + sum((e - s).total_seconds() for s, e in spans))
        return cls(first, intervals, cumulative)


def _utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("Business-time arithmetic needs aware datetimes.")
    return instant.astimezone(UTC)


def add(schedule: Schedule, start: datetime, seconds: float) -> datetime:
    """The instant `seconds` of working time after `start` (start itself when seconds is 0)."""
    start = _aware(start)
    if seconds < 0:
        raise ValueError("Cannot add negative business time.")
    if not seconds:
        return start
    year, position = schedule.position(start)
    target = position + seconds
    for _ in range(MAX_DAYS // 365 + 1):
        table = schedule.year(year)
        if target <= table.total:
            # The first day whose end reaches the target holds the instant.
            index = bisect.bisect_left(table.cumulative, target, lo=1) - 1
            remaining = target - table.cumulative[index]
            for begin, end in table.intervals[index]:
                length = (end - begin).total_seconds()
                if remaining <= length:
                    return begin + timedelta(seconds=remaining)
                remaining -= length
            return table.intervals[index][-1][1]  # rounding left a hair over: the day's end
        target -= table.total
        year += 1
    raise ScheduleError("No working time within five years.")


def between(schedule: Schedule, start: datetime, end: datetime) -> float:
    """Seconds of working time from `start` to `end` (0 when end is not after start)."""
    start, end = _aware(start), _aware(end)
    if end <= start:
        return 0.0
    first_year, first = schedule.position(start)
    last_year, last = schedule.position(end)
    whole_years = sum(schedule.year(y).total for y in range(first_year, last_year))
    return whole_years - first + last


def is_working(schedule: Schedule, instant: datetime) -> bool:
    """Whether `instant` falls inside working time."""
    instant = _aware(instant)
    for begin, end in schedule.intervals_from(instant):
        if begin > instant:
            return False
        if begin <= instant < end:
            return True
    return False  # pragma: no cover


def next_working(schedule: Schedule, instant: datetime) -> datetime:
    """`instant` if it is working time, else the start of the next working interval."""
    instant = _aware(instant)
    for begin, end in schedule.intervals_from(instant):
        if end > instant:
            return max(begin, instant)
    raise ScheduleError("No working time within five years.")  # pragma: no cover


def parse_hours(spec: dict[str, list[list[str]]]) -> dict[int, tuple[tuple[time, time], ...]]:
    """{"mon": [["09:00", "12:30"], ["13:30", "18:00"]], …} → Schedule.hours ("24:00" allowed)."""
    hours: dict[int, tuple[tuple[time, time], ...]] = {}
    for name, intervals in spec.items():
        key = name.strip().lower()[:3]
        if key not in WEEKDAYS:
            raise ScheduleError(f"Unknown weekday '{name}'.")
        parsed = []
        for pair in intervals:
            if len(pair) != 2:
                raise ScheduleError(f"{key}: each interval is [start, end].")
            parsed.append((_parse_time(pair[0]), _parse_time(pair[1])))
        hours[WEEKDAYS.index(key)] = tuple(sorted(parsed))
    return hours


def _parse_time(text: str) -> time:
    if text in ("24:00", "24:00:00"):
        return time(0)
    try:
        return time.fromisoformat(text)
    except (TypeError, ValueError):
        raise ScheduleError(f"'{text}' is not a time (HH:MM).") from None
