"""Full-text search behind one interface: SQLite FTS5, or PostgreSQL tsvector with GIN.

A model's index is declared once as a `FullTextIndex`; its migration operation creates the
virtual table and triggers (SQLite) or the generated column and GIN index (PostgreSQL).
Every word of a query must match, as a prefix, in either back-end (`filter`); `filter_any`
matches rows holding any of several whole words.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, migrations
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from sustain.core.pagination import order_alias

WORD = re.compile(r"\w+", re.UNICODE)
# Words as both back-ends split them (FTS5 and the punctuation-stripped tsvector part at "_").
ANY_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_ANY_WORDS = 64
COMMON_TTL = 600.0  # seconds
_COMMON: dict[str, tuple[float, dict[str, float]]] = {}
POSTGRES_MAX_WORD = 2047  # bytes; longer words are neither indexed nor searched


def words(query: str) -> list[str]:
    return WORD.findall(query or "")[:12]


@dataclass(frozen=True)
class FullTextIndex:
    table: str
    columns: tuple[str, ...]

    @property
    def fts_table(self) -> str:
        return f"{self.table}_fts"

    def _sqlite_sql(self) -> list[str]:
        cols = ", ".join(self.columns)
        new = ", ".join(f"new.{c}" for c in self.columns)
        old = ", ".join(f"old.{c}" for c in self.columns)
        t, f = self.table, self.fts_table
        return [
            f"CREATE VIRTUAL TABLE {f} USING fts5({cols}, content='{t}', content_rowid='id',"
            " tokenize='unicode61 remove_diacritics 2')",
            f"CREATE TRIGGER {f}_ai AFTER INSERT ON {t} BEGIN"
            f" INSERT INTO {f}(rowid, {cols}) VALUES (new.id, {new}); END",
            f"CREATE TRIGGER {f}_ad AFTER DELETE ON {t} BEGIN"
            f" INSERT INTO {f}({f}, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
            f"CREATE TRIGGER {f}_au AFTER UPDATE OF {cols} ON {t} BEGIN"
            f" INSERT INTO {f}({f}, rowid, {cols}) VALUES ('delete', old.id, {old});"
            f" INSERT INTO {f}(rowid, {cols}) VALUES (new.id, {new}); END",
        ]

    def _postgres_sql(self) -> list[str]:
        document = " || ' ' || ".join(f"coalesce({c}, '')" for c in self.columns)
        # Punctuation becomes a space first, so that words split as FTS5 splits them: left to
        # itself PostgreSQL's parser keeps INC-1042 as 'inc' '-1042', 2.4.1 as one version and
        # a host name or e-mail address whole, and their parts could not be found.
        document = f"regexp_replace({document}, '[[:punct:]]', ' ', 'g')"
        return [
            f"ALTER TABLE {self.table} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS"
            f" (to_tsvector('simple'::regconfig, {document})) STORED",
            f"CREATE INDEX {self.table}_search_gin ON {self.table} USING gin (search_vector)",
        ]

    def migration(self) -> migrations.RunPython:
        def forwards(apps: Any, schema_editor: Any) -> None:
            vendor = schema_editor.connection.vendor
            statements = self._sqlite_sql() if vendor == "sqlite" else self._postgres_sql()
            for sql in statements:
                schema_editor.execute(sql)

        return migrations.RunPython(forwards, migrations.RunPython.noop)

    def filter(self, queryset: QuerySet, query: str) -> QuerySet:
        """Rows matching every word of `query` (prefix match); no words: unchanged."""
        terms = words(query)
        if not terms:
            return queryset
        if connection.vendor == "sqlite":
            return self._sqlite_match(
                queryset, " ".join('"{}"*'.format(t.replace('"', "")) for t in terms)
            )
        if any(len(t.encode()) > POSTGRES_MAX_WORD for t in terms):
            return queryset.none()  # PostgreSQL would drop the word and match without it
        tsquery = " & ".join(f"{t.lower()}:*" for t in terms)
        return queryset.extra(
            where=[f"{self.table}.search_vector @@ to_tsquery('simple'::regconfig, %s)"],
            params=[tsquery],
        )

    def filter_any(self, queryset: QuerySet, terms: Iterable[str]) -> QuerySet:
        """Rows holding at least one of `terms` as a whole word (not a prefix); none: no rows.

        Whole words, because FTS5 reads an OR of words lazily, so a query ordered newest first
        with a LIMIT stops early however common the words are; a prefix query (`"note"*`) first
        gathers every row the prefix matches (all million tickets for a word every description
        holds). The duplicate finder asks for the forms of a word itself ("export", "exports",
        "exported" …).
        """
        match = self.any_match(terms)
        if match is None:
            return queryset.none()
        if connection.vendor == "sqlite":
            return self._sqlite_match(queryset, match)
        return queryset.extra(
            where=[f"{self.table}.search_vector @@ to_tsquery('simple'::regconfig, %s)"],
            params=[match],
        )

    @staticmethod
    def any_match(terms: Iterable[str]) -> str | None:
        """The query parameter of `filter_any` (FTS5 MATCH or tsquery text); None: no words."""
        found = dict.fromkeys(w.lower() for t in terms for w in ANY_WORD.findall(t or ""))
        clean = [w for w in found if len(w.encode()) <= POSTGRES_MAX_WORD][:MAX_ANY_WORDS]
        if not clean:
            return None
        if connection.vendor == "sqlite":
            return " OR ".join(f'"{w}"' for w in clean)
        return " | ".join(clean)

    def common_words(self) -> dict[str, float]:
        """PostgreSQL: the words ANALYZE found in most rows, with the share of rows holding each
        (`pg_stats.most_common_elems` of the tsvector); SQLite: none. Kept ten minutes."""
        if connection.vendor == "sqlite":
            return {}
        cached = _COMMON.get(self.table)
        if cached and time.monotonic() - cached[0] < COMMON_TTL:
            return cached[1]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats"
                " WHERE tablename = %s AND attname = 'search_vector'",
                [self.table],
            )
            row = cursor.fetchone()
        words = dict(zip(row[0], row[1], strict=False)) if row and row[0] else {}
        _COMMON[self.table] = (time.monotonic(), words)
        return words

    def _sqlite_match(self, queryset: QuerySet, match: str) -> QuerySet:
        # Joined, not `id IN (SELECT rowid …)`: SQLite would first collect every matching
        # rowid (0.1-0.5 s for a word in most of a million tickets). Joined, and ordered by
        # the index's rowid through the pagination alias, FTS5 hands rows over newest first
        # and the query stops at the page's end; a cursor's bound reaches FTS5 too.
        fts = self.fts_table
        return queryset.extra(
            tables=[fts],
            where=[f"{fts}.rowid = {self.table}.id", f"{fts} MATCH %s"],
            params=[match],
        ).alias(**{order_alias("id"): RawSQL(f"{fts}.rowid", [])})

    @contextmanager
    def bulk_insert(self, first_id: int, last_id: int) -> Iterator[None]:
        """Index rows `first_id`..`last_id` inserted inside the block in one statement.

        SQLite's per-row insert trigger costs several times what one `INSERT … SELECT` into the
        index does, so a bulk loader drops it, inserts, indexes the id range and puts the trigger
        back, all in the caller's transaction (SQLite DDL is transactional: on an error nothing
        is left half done). PostgreSQL's generated column needs nothing.
        """
        if connection.vendor != "sqlite":
            yield
            return
        if not connection.in_atomic_block:
            raise RuntimeError("bulk_insert must run inside a transaction.")
        cols = ", ".join(self.columns)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER {self.fts_table}_ai")
            yield
            cursor.execute(
                f"INSERT INTO {self.fts_table}(rowid, {cols}) SELECT id, {cols} FROM {self.table}"
                " WHERE id BETWEEN %s AND %s",
                [first_id, last_id],
            )
            cursor.execute(self._sqlite_sql()[1])

    def rebuild(self) -> None:
        """Refill the SQLite index after rows were loaded with triggers off."""
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(f"INSERT INTO {self.fts_table}({self.fts_table}) VALUES ('rebuild')")
