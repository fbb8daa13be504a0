"""Gap-free counters, safe under concurrent creation on SQLite and PostgreSQL."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction

from sustain.core.models import Counter


def next_value(name: str, start: int = 1000) -> int:
    """Return the next value of counter `name`; the row lock serialises concurrent callers
    until the caller's transaction ends (so take it as late in the transaction as you can)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_counter SET value = value + 1 WHERE name = %s RETURNING value", [name]
        )
        row = cursor.fetchone()
    if row:
        return int(row[0])
    try:
        with transaction.atomic():
            Counter.objects.create(name=name, value=start + 1)
        return start + 1
    except IntegrityError:
        # Another transaction created it first; take the next value after theirs.
        return next_value(name, start)


def reserve(name: str, count: int, start: int = 1000) -> int:
    """Reserve `count` consecutive values; return the first. Used by bulk loaders."""
    with transaction.atomic():
        Counter.objects.get_or_create(name=name, defaults={"value": start})
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE core_counter SET value = value + %s WHERE name = %s RETURNING value",
                [count, name],
            )
            last = int(cursor.fetchone()[0])
    return last - count + 1
