"""Read a row again under a lock inside the action's transaction, and save only what changed.

One name for each way of taking the lock: `locked(row)` re-reads a row the action holds,
`locked_all(query)` the rows of a query, `locked_or_created(query, **lookup)` the row a
lookup names, created when missing. Nothing else calls `select_for_update`.

Two requests that load the same ticket, change different fields and save the whole row lose
one change; two that both check "pending → resolved is allowed" and "pending → cancelled is
allowed" against what they loaded both pass. Every action that changes a row therefore
re-reads it with `locked()` as the first statement of its transaction, checks the state it
depends on against that fresh copy, and writes with `save_changed()` only the columns it
changed.

One name for each way of taking the lock: `locked(row)` re-reads a row the action holds,
`locked_all(query)` the rows of a query, `locked_or_created(query, **lookup)` the row a
lookup names, created when missing. Nothing else calls `select_for_update`.

PostgreSQL: `SELECT … FOR UPDATE` (of the row itself, not of the joined ones) makes a second
writer wait until the first commits, then read the committed row. SQLite: Sustain opens
IMMEDIATE transactions, so BEGIN already holds the database's write lock; a read after BEGIN
sees the last committed row and no other writer can come between it and the write.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models, transaction
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=models.Model)

_LOADED = "_locked_values"


def _values(instance: models.Model) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def _remember(instance: models.Model) -> None:
    instance.__dict__[_LOADED] = _values(instance)


def locked(instance: M, *related: str) -> M:
    """`instance` refreshed in place from its row, locked until the transaction ends.

    `related` are select_related paths read with it (they are not locked). Cached relations
    and prefetches of the old copy are dropped, so nothing stale survives.
    """
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError("locked() belongs inside the action's transaction.")
    query = type(instance)._base_manager.select_for_update(of=("self",))
    if related:
        query = query.select_related(*related)
    fresh = query.get(pk=instance.pk)
    _adopt(instance, fresh)
    return instance


def locked_all(query: models.QuerySet[M]) -> list[M]:
    """Every row of `query`, locked (in primary-key order, so two actions never deadlock)."""
    if not transaction.get_connection(query.db).in_atomic_block:
        raise TransactionManagementError("locked_all() belongs inside the action's transaction.")
    rows = list(query.select_for_update(of=("self",)).order_by("pk"))
    for row in rows:
        _remember(row)
    return rows


def locked_or_created(
    query: models.QuerySet[M], defaults: dict[str, Any] | None = None, **lookup: Any
) -> tuple[M, bool]:
    """The row of `query` that `lookup` names, locked, or created with `defaults` (and True)."""
    if not transaction.get_connection(query.db).in_atomic_block:
        raise TransactionManagementError(
            "locked_or_created() belongs inside the action's transaction."
        )
    row, created = query.select_for_update(of=("self",)).get_or_create(defaults=defaults, **lookup)
    _remember(row)
    return row, created


def _adopt(instance: models.Model, fresh: models.Model) -> None:
    instance.__dict__.pop("_prefetched_objects_cache", None)
    for field in instance._meta.concrete_fields:
        setattr(instance, field.attname, getattr(fresh, field.attname))
    instance._state.fields_cache = dict(fresh._state.fields_cache)
    _remember(instance)


def save_changed(instance: models.Model, *also: str) -> list[str]:
    """Save the columns that differ from what `locked()` read, plus `also` (e.g. updated_at).

    Returns the columns written. A row never locked is a programming error: saving it whole
    would write back what another request changed meanwhile.
    """
    loaded = instance.__dict__.get(_LOADED)
    if loaded is None:
        raise TransactionManagementError(
            f"{type(instance).__name__} {instance.pk} was not read with locked()."
        )
    current = _values(instance)
    names = sorted({k for k, v in current.items() if loaded.get(k) != v} | set(also))
    if names:
        instance.save(update_fields=names)
    instance.__dict__[_LOADED] = current
    return names
