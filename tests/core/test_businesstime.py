"""Business-time arithmetic: hand-computed cases and properties that must hold for any input."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sustain.core.businesstime import (
    Schedule,
    ScheduleError,
    add,
    between,
    is_working,
    next_working,
    parse_hours,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = parse_hours(
    {d: [["09:00", "12:30"], ["13:30", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def office(**kwargs) -> Schedule:
    return Schedule("Europe/Berlin", OFFICE, **kwargs)


class TestHandComputed:
    def test_friday_afternoon_plus_three_hours_is_monday_morning(self):
        assert add(office(), berlin(2026, 11, 27, 16, 0), 3 * 3600) == berlin(2026, 11, 30, 10, 0)

    def test_lunch_break_does_not_count(self):
        assert add(office(), berlin(2026, 11, 25, 12, 0), 3600) == berlin(2026, 11, 25, 14, 0)

    def test_a_start_outside_hours_counts_from_the_next_opening(self):
        assert add(office(), berlin(2026, 11, 28, 3, 0), 60) == berlin(2026, 11, 30, 9, 1)

    def test_holidays_are_skipped(self):
        schedule = office(holidays=frozenset({date(2026, 12, 24), date(2026, 12, 25)}))
        assert add(schedule, berlin(2026, 12, 23, 17, 0), 2 * 3600) == berlin(2026, 12, 28, 10, 0)

    def test_a_whole_week_of_office_hours(self):
        assert (
            between(office(), berlin(2026, 11, 23, 0, 0), berlin(2026, 11, 30, 0, 0))
            == 5 * 8 * 3600
        )

    def test_dst_spring_forward_day_has_23_hours_around_the_clock(self):
        always = Schedule("Europe/Berlin", always=True)
        day = between(always, berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0))
        assert day == 23 * 3600

    def test_dst_fall_back_keeps_wall_clock_office_hours(self):
        # New York falls back on 2026-11-01; office hours stay 09:00–17:00 local.
        schedule = Schedule("America/New_York", parse_hours({"mon": [["09:00", "17:00"]]}))
        start = datetime(2026, 10, 26, 17, 0, tzinfo=NEW_YORK)
        assert add(schedule, start, 3600) == datetime(2026, 11, 2, 10, 0, tzinfo=NEW_YORK)

    def test_an_interval_to_midnight(self):
        schedule = Schedule("UTC", parse_hours({"sat": [["20:00", "24:00"]]}))
        start = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
        assert add(schedule, start, 3600) == datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
        assert add(schedule, start, 3601) == datetime(2026, 12, 5, 20, 0, 1, tzinfo=UTC)

    def test_is_working_and_next_working(self):
        assert is_working(office(), berlin(2026, 11, 25, 10, 0))
        assert not is_working(office(), berlin(2026, 11, 25, 13, 0))
        assert next_working(office(), berlin(2026, 11, 25, 13, 0)) == berlin(2026, 11, 25, 13, 30)

    def test_bad_schedules_are_refused_with_a_reason(self):
        with pytest.raises(ScheduleError, match="no working hours"):
            Schedule("UTC", {})
        with pytest.raises(ScheduleError, match="ends before it starts"):
            Schedule("UTC", parse_hours({"mon": [["17:00", "09:00"]]}))
        with pytest.raises(ScheduleError, match="overlap"):
            Schedule("UTC", parse_hours({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}))
        with pytest.raises(ScheduleError, match="not a time"):
            parse_hours({"mon": [["nine", "17:00"]]})
        with pytest.raises(ValueError, match="aware"):
            add(office(), datetime(2026, 1, 1), 60)


# --- properties ---------------------------------------------------------------------------
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]


@st.composite
def schedules(draw) -> Schedule:
    if draw(st.booleans()) and draw(st.booleans()):
        return Schedule(draw(st.sampled_from(ZONES)), always=True)
    hours = {}
    for day in range(7):
        cuts = sorted(draw(st.sets(st.integers(0, 96), max_size=4)))
        intervals = []
        for a, b in zip(cuts[::2], cuts[1::2], strict=False):
            if b > a:
                end = time(0) if b == 96 else time(b // 4, (b % 4) * 15)
                intervals.append((time(a // 4, (a % 4) * 15), end))
        if intervals:
            hours[day] = tuple(intervals)
    if not hours:
        hours[0] = ((time(9), time(17)),)
    base = date(2026, 1, 1)
    holidays = frozenset(
        base + timedelta(days=d) for d in draw(st.sets(st.integers(0, 700), max_size=20))
    )
    return Schedule(draw(st.sampled_from(ZONES)), hours, holidays)


def add_or_reject(schedule: Schedule, start: datetime, seconds: int) -> datetime:
    """add(), leaving out schedules with too little working time to reach the duration at all."""
    try:
        return add(schedule, start, seconds)
    except ScheduleError:
        assume(False)
        raise


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
durations = st.integers(min_value=0, max_value=200 * 3600)


@settings(max_examples=200, deadline=None)
@given(schedules(), instants, durations)
def test_adding_then_measuring_gives_back_the_duration(schedule, start, seconds):
    due = add_or_reject(schedule, start, seconds)
    assert between(schedule, start, due) == pytest.approx(seconds, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(schedules(), instants, st.integers(min_value=1, max_value=200 * 3600))
def test_results_never_fall_outside_working_hours(schedule, start, seconds):
    due = add_or_reject(schedule, start, seconds)
    # The due instant is the end of a working second: the second before it is working time.
    assert is_working(schedule, due - timedelta(microseconds=1))


@settings(max_examples=200, deadline=None)
@given(schedules(), instants, durations, durations)
def test_more_time_never_ends_earlier(schedule, start, a, b):
    low, high = sorted((a, b))
    assert add_or_reject(schedule, start, low) <= add_or_reject(schedule, start, high)


@settings(max_examples=100, deadline=None)
@given(schedules(), instants, instants, instants)
def test_measuring_is_additive(schedule, a, b, c):
    a, b, c = sorted((a, b, c))
    assert between(schedule, a, c) == pytest.approx(
        between(schedule, a, b) + between(schedule, b, c)
    )
