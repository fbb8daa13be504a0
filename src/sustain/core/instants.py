"""One strict ISO 8601 reader for dates and date-times that come from outside.

Python's `datetime.fromisoformat` and pydantic's lax mode accept more than a caller means:
unix timestamps (`at=1700000000`), week dates (`2026-W05`), the basic format (`20260105T0900`),
offsets up to ±23:59 that PostgreSQL refuses (it takes ±15:59), and years so close to 9999 that
the next addition overflows. Every query parameter that names an instant goes through here, so
all of them accept the same thing and refuse the rest with a message naming the parameter:

    2026-01-05                      a day (a date-time where one is needed: its midnight)
    2026-01-05T09:00                minutes, seconds and fractions optional
    2026-01-05T09:00:00.5+01:00     an offset `Z` or `±HH:MM`

ASCII digits only (Python's `int` also reads full-width ones), `T` between date and time, no
blanks around: the extended form of ISO 8601 as RFC 3339 profiles it.
"""

from __future__ import annotations

import datetime as dt
import re

MIN_YEAR = 1
# Room for the arithmetic done on an instant (due dates, report months, SLA targets of many
# years): nothing a user means lies past this, and year 9999 overflows at the first step.
MAX_YEAR = 9000
# PostgreSQL's limit on a UTC offset; Python's is ±23:59.
MAX_OFFSET = dt.timedelta(hours=15, minutes=59)

_DATE = r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
_TIME = (
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:[.,](?P<fraction>[0-9]{1,9}))?)?"
)
_OFFSET = r"(?P<offset>Z|z|[+-][0-9]{2}:[0-9]{2})"
_INSTANT = re.compile(rf"{_DATE}(?:[Tt]{_TIME}{_OFFSET}?)?")
# `+01:00` sent unencoded in a query string arrives as ` 01:00`.
_PLUS_AS_BLANK = re.compile(r".*[Tt][0-9:.,]+ [0-9]{2}:[0-9]{2}")

HELP = "an ISO 8601 date (2026-01-05) or date-time (2026-01-05T09:00:00+01:00)"


class BadInstant(ValueError):
    """The text is not a strict ISO 8601 date or date-time, or lies out of range."""


def _offset(text: str) -> dt.timezone:
    if text in ("Z", "z"):
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    if minutes > 59:
        raise BadInstant("has an offset with more than 59 minutes")
    offset = dt.timedelta(hours=hours, minutes=minutes)
    if offset > MAX_OFFSET:
        raise BadInstant("has a UTC offset beyond ±15:59")
    return dt.timezone(sign * offset)


def parse(text: str) -> dt.date | dt.datetime:
    """A date (no time given) or a date-time, naive when no offset was given.

    Raises BadInstant with a short reason (to follow the parameter's name)."""
    if not isinstance(text, str):
        raise BadInstant(f"must be {HELP}")
    match = _INSTANT.fullmatch(text)
    if match is None:
        if _PLUS_AS_BLANK.fullmatch(text):
            raise BadInstant(f"must be {HELP}; write a + in an address as %2B")
        raise BadInstant(f"must be {HELP}")
    parts = match.groupdict()
    year = int(parts["year"])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise BadInstant(f"must lie between the years {MIN_YEAR} and {MAX_YEAR}")
    try:
        day = dt.date(year, int(parts["month"]), int(parts["day"]))
        if parts["hour"] is None:
            return day
        fraction = (parts["fraction"] or "0")[:6].ljust(6, "0")
        moment = dt.datetime.combine(
            day,
            dt.time(
                int(parts["hour"]),
                int(parts["minute"]),
                int(parts["second"] or 0),
                int(fraction),
            ),
        )
    except ValueError as exc:
        raise BadInstant(f"is not a real date or time ({exc})") from None
    if parts["offset"]:
        moment = moment.replace(tzinfo=_offset(parts["offset"]))
        try:
            moment.astimezone(dt.UTC)
        except OverflowError:
            raise BadInstant("is out of range") from None
    return moment


def parse_datetime(text: str) -> dt.datetime:
    """Like `parse`, a day being its midnight (naive)."""
    value = parse(text)
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time.min)
