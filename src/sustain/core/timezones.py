"""Which time zone names are accepted anywhere (calendars, rotations, users' preferences).

Only IANA names from the tz database: ZoneInfo() also opens other files under its search
path, such as "localtime" (the host's /etc/localtime), whose meaning changes with the server.
available_timezones() alone is not enough: it lists every TZif file it finds, and Debian's
/usr/share/zoneinfo/localtime is a link to /etc/localtime, so "localtime" is listed there.
"""

from __future__ import annotations

import functools
import zoneinfo
from typing import Any

# Files in the zoneinfo tree that are not zones of their own: the host's zone, the template
# for POSIX TZ strings, and "Factory" (no time zone set, shown as "-00").
NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@functools.cache
def known() -> frozenset[str]:
    """The names the tz database offers, read once (listing them walks the zoneinfo tree)."""
    return frozenset(zoneinfo.available_timezones()) - NOT_ZONES


def is_known(name: Any) -> bool:
    return isinstance(name, str) and name in known()
