"""Keyset (cursor) pagination: stable under inserts and fast on any page of a large table.

The queryset is always ordered here, by the requested fields with `id` as tie-breaker, so an
unordered queryset is never paginated. The cursor is an opaque, signed token of the last row's
sort values, bound to the model and the ordering it was made under (reused with another one it
is refused, naming `cursor`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.core import signing
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from sustain.core.errors import Invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_signer = signing.Signer(salt="sustain.cursor")


def _bound_to(queryset: QuerySet, spec: list[str]) -> str:
    """What a cursor belongs to: the rows' model and the ordering it was made under. A cursor
    reused with another ordering (or on another list) would compare a date with a number."""
    return f"{queryset.model._meta.label_lower}:{','.join(spec)}"


def _encode(values: list[Any], bound_to: str) -> str:
    plain = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    return signing.dumps({"for": bound_to, "after": plain}, salt="sustain.cursor", compress=True)


def _decode(cursor: str, fields: list[str], queryset: QuerySet, bound_to: str) -> list[Any]:
    try:
        token = signing.loads(cursor, salt="sustain.cursor")
    except signing.BadSignature:
        raise Invalid(
            "The cursor is not valid; start again from the first page.", field="cursor"
        ) from None
    if not isinstance(token, dict) or token.get("for") != bound_to:
        raise Invalid(
            "The cursor belongs to another ordering or list; start again from the first page.",
            field="cursor",
        )
    values = token.get("after")
    if not isinstance(values, list) or len(values) != len(fields):
        raise Invalid("The cursor does not fit this ordering.", field="cursor")
    for i, name in enumerate(fields):
        field = queryset.model._meta.get_field(name)
        if field.get_internal_type() == "DateTimeField" and isinstance(values[i], str):
            values[i] = dt.datetime.fromisoformat(values[i])
    return values


def order_alias(field: str) -> str:
    """The name of an alias that stands in for `field` in ORDER BY and in the cursor condition.

    A queryset may carry one (`queryset.alias(ordering_id=RawSQL("fts.rowid", []))`) when the
    same values are better reached through another table: the full-text index orders its matches
    by rowid, which is the ticket id, so ordering by it lets the database stop at the page's end.
    """
    return f"ordering_{field}"


def _after(order: list[str], values: list[Any]) -> Q:
    """Rows that come after `values` in `order` (lexicographic keyset condition)."""
    condition = Q()
    for i, spec in enumerate(order):
        name = spec.lstrip("-")
        op = "lt" if spec.startswith("-") else "gt"
        step = Q(**{f"{name}__{op}": values[i]})
        for prev_spec, prev_value in zip(order[:i], values[:i], strict=False):
            step &= Q(**{prev_spec.lstrip("-"): prev_value})
        condition |= step
    return condition


def paginate(
    request: HttpRequest,
    queryset: QuerySet,
    *,
    order: tuple[str, ...] = ("-id",),
    limit: int | None = None,
    cursor: str | None = None,
    nulls_last: bool = False,
) -> tuple[list[Any], str | None]:
    """One page of `queryset` and the URL of the next page (None on the last page).

    With `nulls_last`, the first field of `order` may be empty: the rows that have it come
    first in `order`, then the rows without it in the order of the other fields. Each part is
    read by its own range (`field IS NOT NULL … ORDER BY field, id`, then `field IS NULL …
    ORDER BY id`), so both walk an index; a page that spans the two reads both.
    """
    try:
        limit = int(limit or DEFAULT_LIMIT)
    except (TypeError, ValueError):
        raise Invalid("limit must be a whole number.", field="limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}.", field="limit")
    spec = list(order)
    if spec[-1].lstrip("-") != "id":
        spec.append("-id" if spec[-1].startswith("-") else "id")
    fields = [s.lstrip("-") for s in spec]
    aliases = queryset.query.annotations
    db_spec = [
        s.replace(f, order_alias(f)) if order_alias(f) in aliases else s
        for s, f in zip(spec, fields, strict=True)
    ]
    bound_to = _bound_to(queryset, spec) + (":nulls-last" if nulls_last else "")
    after = _decode(cursor, fields, queryset, bound_to) if cursor else None
    if nulls_last:
        rows = _two_ranges(queryset, db_spec, after, limit + 1)
    else:
        queryset = queryset.order_by(*db_spec)
        if after is not None:
            queryset = queryset.filter(_after(db_spec, after))
        rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    params = request.GET.copy()
    params["cursor"] = _encode([getattr(last, f) for f in fields], bound_to)
    params["limit"] = str(limit)
    next_url = request.build_absolute_uri(request.path) + "?" + urlencode(params, doseq=True)
    return rows, next_url


def _two_ranges(
    queryset: QuerySet, db_spec: list[str], after: list[Any] | None, wanted: int
) -> list[Any]:
    """Up to `wanted` rows after `after`: those with the first field, then those without."""
    name = db_spec[0].lstrip("-")
    rows: list[Any] = []
    if after is None or after[0] is not None:
        present = queryset.filter(**{f"{name}__isnull": False}).order_by(*db_spec)
        if after is not None:
            present = present.filter(_after(db_spec, after))
        rows = list(present[:wanted])
        after = None  # the second range starts at its beginning
    if len(rows) < wanted:
        absent = queryset.filter(**{f"{name}__isnull": True}).order_by(*db_spec[1:])
        if after is not None:
            absent = absent.filter(_after(db_spec[1:], after[1:]))
        rows += list(absent[: wanted - len(rows)])
    return rows
