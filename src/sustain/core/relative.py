"""Short relative times for dense lists: "19 h ago", "3 d ago", "in 2 h", "overdue 5 min".

Django's `timesince` says "19 hours, 12 minutes": two units and long words, which wrap in a
queue's narrow column. Here one unit, floored, with a no-break space between the number and
the unit so that it never breaks across lines.
"""

from __future__ import annotations

from datetime import datetime

NBSP = "\u00a0"
# (seconds in the unit, its short name), largest first.
UNITS = (
    (365 * 86400, "y"),
    (30 * 86400, "mo"),
    (86400, "d"),
    (3600, "h"),
    (60, "min"),
)


def span(seconds: float) -> str:
    """A length of time in its largest whole unit: "2 h", "3 d", "<1 min"."""
    seconds = abs(seconds)
    for size, name in UNITS:
        if seconds >= size:
            return f"{int(seconds // size)}{NBSP}{name}"
    return f"<1{NBSP}min"


def relative(moment: datetime, now: datetime) -> str:
    """`moment` seen from `now`: "19 h ago", "in 2 h", or "just now" within a minute."""
    seconds = (moment - now).total_seconds()
    if abs(seconds) < 60:
        return "just now"
    return f"in {span(seconds)}" if seconds > 0 else f"{span(seconds)} ago"
