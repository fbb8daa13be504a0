"""Business-time arithmetic: the one module that adds and measures working time.

A `Schedule` is a time zone, weekly working intervals in local wall-clock time and a set of
holiday dates (or "always": 24×7). Intervals are turned into UTC instants day by day, so
daylight-saving changes are exact: a working day from 00:00 to 24:00 on the night clocks go
forward has 23 hours. Times are aware datetimes; results are in UTC.
"""

from __future__ import annotations

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

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def intervals_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals in UTC, in order, from the local day of `instant` on."""
        zone = self.zone
        day = instant.astimezone(zone).date() - timedelta(
            days=1
        )  # an interval may cross midnight UTC
        for _ in range(MAX_DAYS):
            if day not in self.holidays:
                if self.always:
                    yield _utc(day, time(0), zone), _utc(day + timedelta(days=1), time(0), zone)
                else:
                    for start, end in self.hours.get(day.weekday(), ()):
                        end_day = day + timedelta(days=1) if end == time(0) else day
                        yield _utc(day, start, zone), _utc(end_day, end, zone)
            day += timedelta(days=1)
        raise ScheduleError("No working time within five years.")


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
    remaining = timedelta(seconds=seconds)
    if not remaining:
        return start
    for begin, end in schedule.intervals_from(start):
        if end <= start:
            continue
        begin = max(begin, start)
        available = end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise ScheduleError("No working time within five years.")  # pragma: no cover


def between(schedule: Schedule, start: datetime, end: datetime) -> float:
    """Seconds of working time from `start` to `end` (0 when end is not after start)."""
    start, end = _aware(start), _aware(end)
    if end <= start:
        return 0.0
    total = timedelta()
    for begin, finish in schedule.intervals_from(start):
        if begin >= end:
            break
        if finish <= start:
            continue
        total += min(finish, end) - max(begin, start)
    return total.total_seconds()


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
