"""The words of open tickets' and bugs' titles, kept for duplicate suggestions.

Suggestions look up each significant word of the title being written and take the newest open
rows holding one of its forms ("export": exports, exported …). The full-text index can answer
that on SQLite (FTS5 hands rows over newest first and stops), but PostgreSQL gathers a word's
rows from the GIN bitmap and reads each from the heap before it can test the status and sort:
40–130 ms for a word in a few percent of a million tickets. So the open rows' words live in a
small side table of (term, row id) pairs, unique, a b-tree in that order: a term's rows newest
first are an index walk that stops after `PER_TERM` rows, on both back-ends.

A word is kept under every term it is a form of: "exporting" under "exporting" and "export"
(`terms_of`), so a term's rows are exactly those holding one of its forms, each once. Kept:
the words of the key, the title and the start of the description (`DESCRIPTION_CHARS`, what
the ranking compares), folded as FTS5's `remove_diacritics` folds them ("crédit" meets
"credit"); of a long description the rest is left out.

Kept by the actions, in their transaction (one INSERT when a row opens, a DELETE when it
closes, both when its title or description changes): `refresh()`. Bulk loaders and the migration fill an id
range with `fill()`. Only open rows are kept; the lookup joins the row and tests its status
and visibility anyway, so a row left behind could cost a little time, never a wrong answer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import connection

from sustain.core.search import ANY_WORD

WORD_MAX = 100  # characters; longer "words" (a pasted hash) are not kept
MIN_WORD = 3  # shorter words are never looked up (see rank.search_terms)
FILL_BATCH = 5_000  # rows read at a time by fill()
DESCRIPTION_CHARS = 300  # of a description, what is kept (and compared, rank.py)

# Crude stemming, enough for looking up and for comparing titles: "exports", "exported",
# "exporting" all become "export"; a stem keeps at least four letters.
FORM_ENDINGS = (
    "s",
    "es",
    "e",
    "ed",
    "ing",
    "ings",
    "er",
    "ers",
    "ation",
    "ations",
    "ies",
    "ied",
    "ly",
)
SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "ers", "er", "ed", "es", "s", "ly")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def word_forms(term: str) -> list[str]:
    """The whole words a stem stands for ("export": exports, exported …)."""
    if len(term) < 4 or term.isdigit():
        return [term]
    return [term, *(term + ending for ending in FORM_ENDINGS)]


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """`word` without its diacritics, as FTS5's unicode61 tokenizer keeps it."""
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFD", word)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    )


def terms_of(key: str, title: str, description: str) -> set[str]:
    """The terms a row is found under: each word of its key, title and description's start, and
    what each is a form of ("exports": "exports" and "export"; see `word_forms`)."""
    found: set[str] = set()
    text = f"{key} {title} {(description or '')[:DESCRIPTION_CHARS]}"
    for raw in set(ANY_WORD.findall(text.lower())):
        word = fold(raw)
        if not MIN_WORD <= len(word) <= WORD_MAX:
            continue
        found.add(word)
        for ending in FORM_ENDINGS:
            term = word[: -len(ending)]
            if word.endswith(ending) and len(term) >= 4 and not term.isdigit():
                found.add(term)
    return found


@dataclass(frozen=True)
class Kind:
    """What is indexed for one model: its table, the side table and the open statuses."""

    table: str
    words: str
    column: str  # the side table's column naming the row
    open_statuses: tuple[str, ...]


def kind_of(model: Any) -> Kind:
    """The kind of a ticket or bug, of their model or of a migration's historical model."""
    from sustain.bugs.models import OPEN_STATUSES as BUG_OPEN
    from sustain.desk.models import OPEN_STATUSES as TICKET_OPEN

    label = model._meta.label_lower
    if label == "bugs.bug":
        return Kind("bugs_bug", "bugs_bugword", "bug_id", tuple(BUG_OPEN))
    if label == "desk.ticket":
        return Kind("desk_ticket", "bugs_ticketword", "ticket_id", tuple(TICKET_OPEN))
    raise ValueError(f"No similar-words index for {label}.")


def refresh(row: Any, *, text_changed: bool = True, was_open: bool = True) -> None:
    """Keep `row`'s words after an action changed its title, description or status
    (`was_open`: before). A new row: `refresh(row, was_open=False)`. Nothing to do when it
    stays open with the same text, or stays closed."""
    kind = kind_of(row)
    is_open = row.status in kind.open_statuses
    if is_open == was_open and not (is_open and text_changed):
        return
    with connection.cursor() as cursor:
        if was_open:
            cursor.execute(f"DELETE FROM {kind.words} WHERE {kind.column} = %s", [row.pk])
        if is_open:
            terms = terms_of(row.key, row.title, row.description)
            _insert(cursor, kind, [(row.pk, term) for term in terms])


def fill(model: Any, first_id: int | None = None, last_id: int | None = None) -> int:
    """Add the words of the open rows with ids `first_id`..`last_id` (all when None) that have
    none yet, in batches; returns how many rows were read. For bulk loaders and migrations."""
    kind = kind_of(model)
    done = 0
    for batch in _open_rows(kind, first_id, last_id):
        rows = [(pk, term) for pk, *text in batch for term in terms_of(*text)]
        with connection.cursor() as cursor:
            _insert(cursor, kind, rows)
        done += len(batch)
    return done


def _open_rows(
    kind: Kind, first_id: int | None, last_id: int | None
) -> Iterator[list[tuple[int, str, str, str]]]:
    marks = ", ".join(["%s"] * len(kind.open_statuses))
    after = (first_id or 1) - 1
    last = last_id if last_id is not None else 2**62
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, key, title, substr(description, 1, {DESCRIPTION_CHARS})"
                f" FROM {kind.table} t WHERE id > %s AND id <= %s"
                f" AND status IN ({marks}) AND NOT EXISTS"
                f" (SELECT 1 FROM {kind.words} w WHERE w.{kind.column} = t.id)"
                f" ORDER BY id LIMIT {FILL_BATCH}",
                [after, last, *kind.open_statuses],
            )
            batch = cursor.fetchall()
        if not batch:
            return
        yield batch
        after = batch[-1][0]


def _insert(cursor: Any, kind: Kind, rows: Iterable[tuple[int, str]]) -> None:
    rows = list(rows)
    if not rows:
        return
    columns = f"{kind.words} ({kind.column}, term)"
    if connection.vendor == "postgresql" and len(rows) > 100:
        with cursor.cursor.copy(f"COPY {columns} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    if len(rows) > 400:  # SQLite's limit on bound parameters is large, but not unbounded
        cursor.executemany(f"INSERT INTO {columns} VALUES (%s, %s)", rows)
        return
    values = ", ".join(["(%s, %s)"] * len(rows))
    cursor.execute(f"INSERT INTO {columns} VALUES {values}", [v for row in rows for v in row])
