"""References from outside that may be a row id ("42") or something else (a slug, an e-mail)."""

from __future__ import annotations

from typing import Any

MAX_ID = 2**63 - 1  # the largest BIGINT on both databases


def as_id(ref: Any) -> int | None:
    """The id `ref` spells in plain ASCII digits, or None.

    `str.isdigit` alone also accepts "²" or "٣", which `int()` or the database then refuse
    with a server error; and a number past BIGINT overflows the query.
    """
    text = str(ref).strip() if ref is not None else ""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= MAX_ID else None
