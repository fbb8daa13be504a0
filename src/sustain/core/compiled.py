"""Querysets compiled once per database connection and run again with other values.

Building and compiling a queryset costs the ORM 0.2-1 ms of Python for every statement, more
than SQLite takes to run it; on the hot paths (a bearer token's look-up on every API request,
the reads and the duplicate suggestions of every new ticket) that was a third of a request's
CPU. A `Prepared` builds its queryset once, with marker values where the per-call values go,
keeps the compiled SQL (and the compiler, which turns rows into model instances with their
`select_related` rows and the database's converters, as `QuerySet` would), and on each call
binds the real values in the markers' places.

Only values that the ORM passes as plain parameters can be markers (strings, integers,
datetimes); the shape of the query (which filters, which joins, a LIMIT) must not depend on
them: whatever it depends on goes into the `key`, and each key is compiled once. The cache is
per thread and per connection object, so a new connection (CONN_MAX_AGE, a test's database)
compiles again.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import DateTimeField, Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.signals import post_save, pre_save

M = TypeVar("M", bound=Model)
MAX_KEYS = 256  # shapes kept per Prepared and thread (visibility keys grow with the actors)
_DATETIME = DateTimeField()


class IExact(str):
    """A marker (and its values) for an `__iexact` lookup, whose value the database's own
    escaping prepares (SQLite's LIKE escapes `%`, `_` and backslashes; PostgreSQL compares
    UPPER() as it is): bound as the ORM would, never as a pattern."""


class Prepared(Generic[M]):
    """`build(*context, **markers)` compiled once per key; `rows(key, *context, **values)`
    runs it again with `values` in the markers' places.

    `markers` name each value's stand-in: a string, an integer or an aware datetime that the
    query would not otherwise contain (so that its place among the parameters is found).
    `context` (an actor, say) is only passed to `build` when a key is first compiled: the key
    must hold everything of it that the statement depends on.
    """

    def __init__(self, build: Callable[..., QuerySet[M]], **markers: Any) -> None:
        self.build, self.markers = build, markers
        self._local = threading.local()

    def _compiled(self, key: Hashable, context: tuple[Any, ...], using: str) -> _Statement:
        connection = connections[using]
        cache: dict[Hashable, _Statement] | None = getattr(self._local, "cache", None)
        if cache is None or getattr(self._local, "connection", None) is not connection:
            cache = self._local.cache = {}
            self._local.connection = connection
        statement = cache.get(key)
        if statement is None:
            if len(cache) >= MAX_KEYS:
                cache.clear()
            statement = cache[key] = _Statement(
                self.build(*context, **self.markers), self.markers, using
            )
        return statement

    def rows(
        self, key: Hashable = None, *context: Any, using: str = "default", **values: Any
    ) -> list[M]:
        """The model instances (or values_list tuples) the queryset would give for `values`."""
        return self._compiled(key, context, using).run(values)

    def sql(
        self, key: Hashable = None, *context: Any, using: str = "default", **values: Any
    ) -> tuple[str, list[Any]] | None:
        """The statement and its parameters for `values` (to embed in a larger statement);
        None when the queryset is empty whatever the values (`none()`)."""
        statement = self._compiled(key, context, using)
        if statement.empty:
            return None
        return statement.sql, statement.bind(values)


def _same_kind(found: Any, marker: Any) -> bool:
    """Equal as a parameter: a marker 1 is no True, but an IExact passed through unchanged (on
    PostgreSQL) is the string it holds."""
    return type(found) is type(marker) or (isinstance(found, str) and isinstance(marker, str))


class _Statement:
    def __init__(self, queryset: QuerySet, markers: dict[str, Any], using: str) -> None:
        self.using, self.markers = using, markers
        self.connection = connections[using]
        self.compiler = queryset.query.get_compiler(using=using)
        self.slots: dict[str, list[int]] = {}
        self.populate: tuple[Any, ...] | None = None
        try:
            self.sql, params = self.compiler.as_sql()
        except EmptyResultSet:
            self.empty, self.sql, self.params = True, "", []
            return
        self.empty, self.params = False, list(params)
        for name, marker in markers.items():
            prepared = self._prepare(marker, marker)
            where = [
                i for i, p in enumerate(self.params) if p == prepared and _same_kind(p, prepared)
            ]
            if not where:
                raise ValueError(f"the marker for {name} is not among the query's parameters")
            self.slots[name] = where
        klass_info = self.compiler.klass_info
        if klass_info is not None:  # model instances (not values_list rows)
            select, fields = self.compiler.select, klass_info["select_fields"]
            start, end = fields[0], fields[-1] + 1
            self.populate = (
                klass_info["model"],
                start,
                end,
                [f[0].target.attname for f in select[start:end]],
                get_related_populators(klass_info, select, using),  # type: ignore[call-arg]
                self.compiler.annotation_col_map,
            )

    def _prepare(self, value: Any, marker: Any) -> Any:
        if isinstance(marker, IExact):
            return self.connection.ops.prep_for_iexact_query(str(value))
        if isinstance(value, dt.datetime):
            return _DATETIME.get_db_prep_value(value, self.connection)
        return value

    def bind(self, values: dict[str, Any]) -> list[Any]:
        params = list(self.params)
        for name, where in self.slots.items():
            value = self._prepare(values[name], self.markers[name])
            for i in where:
                params[i] = value
        return params

    def run(self, values: dict[str, Any]) -> list[Any]:
        if self.empty:
            return []
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql, self.bind(values))
            fetched = cursor.fetchall()
        rows = self.compiler.results_iter([fetched])
        if self.populate is None:  # values_list(): the converted rows
            return [tuple(row) for row in rows]
        model, start, end, names, populators, annotations = self.populate
        found = []
        for row in rows:
            obj = model.from_db(self.using, names, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in annotations.items():
                setattr(obj, name, row[position])
            found.append(obj)
        return found


_INSERTS: dict[tuple[Any, ...], tuple[str, list[Any]]] = {}


def insert(objs: list[M], *, using: str = "default", signals: bool = False) -> list[M]:
    """Write new rows of one model in one `INSERT … RETURNING id`, as `bulk_create` would
    (fields' `pre_save` and database preparation), and set their ids; the statement's text is
    built once per model and row count. With `signals`, each row's pre_save and post_save are
    sent as `save()` sends them (bulk_create sends none). Rows holding an expression (an
    `F()`, a database default) go through `bulk_create`."""
    if not objs:
        return objs
    model = type(objs[0])
    if signals:
        for obj in objs:
            pre_save.send(sender=model, instance=obj, raw=False, using=using, update_fields=None)
    connection = connections[using]
    opts = model._meta
    with_pk = objs[0].pk is not None
    fields = [f for f in opts.concrete_fields if with_pk or f is not opts.pk]
    rows = [[f.pre_save(obj, True) for f in fields] for obj in objs]
    if opts.parents or any(hasattr(v, "resolve_expression") for row in rows for v in row):
        model._default_manager.using(using).bulk_create(objs)
        return _saved(objs, using, signals)
    key = (model, connection.vendor, len(objs), with_pk)
    if key not in _INSERTS:
        quote = connection.ops.quote_name
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        _INSERTS[key] = (
            f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) "
            f"VALUES {', '.join([one] * len(objs))} RETURNING {quote(str(opts.pk.column))}",
            fields,
        )
    sql, fields = _INSERTS[key]
    params = [
        f.get_db_prep_save(value, connection)
        for row in rows
        for f, value in zip(fields, row, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        if not with_pk:
            obj.pk = pk
        obj._state.adding, obj._state.db = False, using
    return _saved(objs, using, signals)


def _saved(objs: list[M], using: str, signals: bool) -> list[M]:
    for obj in objs if signals else ():
        post_save.send(
            sender=type(obj), instance=obj, created=True, update_fields=None, raw=False, using=using
        )
    return objs
