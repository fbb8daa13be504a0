"""Duplicate suggestions: the open bugs and tickets most like a title being written.

Two steps, so that the cost does not grow with the database:

1. Candidates from the open rows' key and title words (`bugs.similar.index`, a side table kept
   by the actions): the newest `PER_TERM` open rows holding a form of each significant word of
   the title. One OR query ordered by relevance would have to score every row matching any
   word (a word like "error" is in a tenth of a million tickets); one OR query ordered by
   recency would be all about the commonest word. Per word and newest first, each lookup is a
   b-tree walk that stops after `PER_TERM` rows, whatever the word, and a rare word (the
   discriminating one) brings all its rows.
2. Ranking of those candidates with rapidfuzz: a blend of token-set, token-sort and weighted
   ratios over the titles reduced to their significant words, with a lighter weight on the
   descriptions.

Tenancy: candidates come through `visible(…, actor)` only.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import connections
from django.db.models import Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Lower
from django.urls import reverse
from rapidfuzz import fuzz, process

from sustain.bugs.models import KEY_PREFIX as BUG_PREFIX
from sustain.bugs.models import OPEN_STATUSES as BUG_OPEN
from sustain.bugs.models import Bug, BugWord, TicketWord
from sustain.bugs.similar import index
from sustain.bugs.similar.index import stem
from sustain.core.compiled import Prepared
from sustain.core.search import ANY_WORD as WORD
from sustain.core.tenancy import visibility_key, visible
from sustain.desk.models import OPEN_STATUSES as TICKET_OPEN
from sustain.desk.models import Ticket

MAX_TERMS = 8  # significant words of a title used for candidates
PER_TERM = 30  # newest matching open rows per word and per kind
MARKER = "similarmarkerword"  # stands for a term in the compiled candidate query
# The side table of each kind's terms (bugs.similar.index), and its column naming the row.
WORD_TABLES: dict[type[Model], tuple[type[Model], str]] = {
    Ticket: (TicketWord, "ticket"),
    Bug: (BugWord, "bug"),
}
DESCRIBED = 20  # candidates whose descriptions are compared too (the best by title)
MIN_SCORE = 40  # below this a "suggestion" is noise rather than help
# What of a description is compared (the start says what it is about); its words are indexed.
DESCRIPTION_CHARS = index.DESCRIPTION_CHARS

MIN_TITLE = 3  # characters of a title before suggestions are looked for
MAX_TITLE = 300

KEY = re.compile(r"[A-Z]{2,10}-[0-9]{1,12}")
_STOP_WORDS = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can cannot could did do does doing done down during each
    few for from further get gets getting got had has have having he her here hers him his how
    i if in into is it its itself just me more most my no nor not now of off on once only or
    other our ours out over own same she should so some such than that the their theirs them
    then there these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your yours
    please hi hello thanks thank still again since any anymore every sometimes today yesterday
    urgent help problem issue re fwd asap prod regression reports reported
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "bug" or "ticket"
    key: str
    title: str
    status: str
    score: int  # 0-100
    url: str


def significant_words(text: str) -> list[str]:
    """The stemmed words of `text` that say something, in order, without repeats."""
    seen: dict[str, None] = {}
    for raw in WORD.findall((text or "").lower()):
        if raw in STOP_WORDS or (len(raw) < 3 and not raw.isdigit()):
            continue
        seen.setdefault(stem(raw), None)
    return list(seen)


def search_terms(title: str, description: str = "") -> list[str]:
    """At most MAX_TERMS words to look up; the longest (usually the rarest) when there are more."""
    terms = [t for t in significant_words(title) if len(t) >= 3]
    if len(terms) < 2:  # a one-word title says too little: borrow from the description
        terms += [t for t in significant_words(description)[:4] if t not in terms]
    if len(terms) > MAX_TERMS:
        keep = set(sorted(terms, key=len, reverse=True)[:MAX_TERMS])
        terms = [t for t in terms if t in keep][:MAX_TERMS]
    return terms


def suggest(
    actor: Any,
    *,
    title: str,
    description: str = "",
    exclude_bug: Bug | str | int | None = None,
    exclude_ticket: Ticket | str | int | None = None,
    limit: int = 5,
) -> list[Suggestion]:
    """The `limit` open bugs and tickets `actor` may see that look most like `title`."""
    terms = search_terms(title, description)
    if not terms or limit <= 0:
        return []
    query = _Query(title, description)
    candidates = _candidates(
        [("ticket", Ticket, exclude_ticket), ("bug", Bug, exclude_bug)], terms, actor
    )
    pool = [(significant_words(row[2]), row[4]) for row in candidates]
    scored = [
        (score, kind, key, row_title, status)
        for (kind, key, row_title, status, _), score in zip(
            candidates, query.rank(pool), strict=True
        )
        if score >= MIN_SCORE
    ]
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))
    return [  # the links of those shown only (reverse() costs more than the scoring)
        Suggestion(kind, key, row_title, status, score, _url(kind, key, actor))
        for score, kind, key, row_title, status in scored[:limit]
    ]


def _open(model: type[Model], statuses: Iterable[str]) -> QuerySet:
    return model._default_manager.alias(open_status=Lower("status")).filter(
        open_status__in=list(statuses)
    )


# Stand-ins for the per-call values of the compiled candidate walk (core.compiled).
EXCLUDE_PK, EXCLUDE_KEY = -7_000_000_007, "\x01similar-exclude"
STATUSES: dict[type[Model], Iterable[str]] = {Ticket: TICKET_OPEN, Bug: BUG_OPEN}


def _exclusion(ref: Model | str | int | None) -> tuple[str, Any]:
    """How the row being written is left out: by id, by key, or not at all."""
    if ref is None or ref == "":
        return "none", None
    if isinstance(ref, Model):
        return "pk", ref.pk
    if isinstance(ref, int):
        return "pk", ref
    return "key", str(ref).upper()


def _walk(model: type[Model], how: str, actor: Any, *, term: str, exclude: Any = None) -> QuerySet:
    """The newest PER_TERM rows of `model` that `actor` may see, open, holding `term`.

    Each term is a walk of the side table's (term, id) b-tree newest first, each row tested
    for its status and visibility by a correlated subquery: unlike a join or an EXISTS,
    PostgreSQL cannot turn that into a merge or hash join that first reads every open row (it
    does when it underestimates their share), so the walk stops after PER_TERM rows. The
    status is tested on each matching row, not through its index: PostgreSQL would otherwise
    intersect a rare word's few rows with the bitmap of every open row (35 ms).
    """
    qs = visible(_open(model, STATUSES[model]), actor)
    if how == "pk":
        qs = qs.exclude(pk=exclude)
    elif how == "key":
        qs = qs.exclude(key=exclude)
    words, column = WORD_TABLES[model]
    row = qs.filter(pk=OuterRef(column)).values("pk")[:1]
    return (
        words._default_manager.filter(term=term)
        .alias(seen=Subquery(row))
        .filter(seen__isnull=False)
        .order_by(f"-{column}")
        .values_list(column)[:PER_TERM]
    )


# One compiled walk per kind and way of excluding, per visibility (tenancy.visibility_key).
_WALKS: dict[tuple[type[Model], str], Prepared[Any]] = {
    (model, how): Prepared(
        partial(_walk, model, how),
        term=MARKER,
        **({"exclude": EXCLUDE_PK if how == "pk" else EXCLUDE_KEY} if how != "none" else {}),
    )
    for model in (Ticket, Bug)
    for how in ("none", "pk", "key")
}


def _candidates(
    kinds: list[tuple[str, type[Model], Model | str | int | None]], terms: list[str], actor: Any
) -> list[tuple[str, str, str, str, str]]:
    """(kind, key, title, status, description's start) of each kind's candidates, in one
    statement (one round trip for all the look-ups): per kind, the newest PER_TERM rows
    holding a form of each term (`_walk`, compiled once and repeated per term as one UNION
    ALL), then their columns."""
    seen = visibility_key(actor)
    connection = connections["default"]
    quote = connection.ops.quote_name
    folded = list(dict.fromkeys(index.fold(t) for t in terms))
    statements: list[str] = []
    values: list[Any] = []
    for kind, model, ref in kinds:
        how, exclude = _exclusion(ref)
        walk = _WALKS[(model, how)]
        parts, part_values = [], []
        for n, term in enumerate(folded):
            found = walk.sql((seen, connection.vendor), actor, term=term, exclude=exclude)
            if found is None:  # the actor sees none of this kind
                break
            parts.append(f"SELECT * FROM ({found[0]}) AS term_{n}")
            part_values += found[1]
        if not parts:
            continue
        values += part_values
        table = quote(model._meta.db_table)
        statements.append(
            f"SELECT '{kind}', {quote('key')}, {quote('title')}, {quote('status')}, "
            f"SUBSTR({quote('description')}, 1, {DESCRIPTION_CHARS}) FROM {table} "
            f"WHERE {quote('id')} IN ({' UNION ALL '.join(parts)})"
        )
    if not statements:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(statements), values)
        return cursor.fetchall()


class _Query:
    """The text being written, prepared once, and the pool of candidates it is compared with.

    Besides rapidfuzz's ratios over the titles, a candidate scores by the share of the query's
    words it contains, each word weighted by how rare it is among the candidates (a rare word,
    "PayPal" or "CJK", says more than "fails"); words match when equal, when one is the
    other's prefix ("upload", "uploading") or, for longer words, within a typo (rapidfuzz).
    """

    def __init__(self, title: str, description: str) -> None:
        self.terms = significant_words(title)
        self.title = " ".join(self.terms)
        self.description = " ".join(significant_words(description[:DESCRIPTION_CHARS]))

    def rank(self, pool: list[tuple[list[str], str]]) -> list[int]:
        """Scores (0-100) of each candidate, given as (title words, description head)."""
        if not pool:
            return []
        vocabulary = sorted({t for words, _ in pool for t in words})
        matches = {q: self._same_words(q, vocabulary) for q in self.terms}
        df = Counter(t for words, _ in pool for t in set(words))
        size = len(pool)

        def idf(count: int) -> float:
            return math.log(1 + size / max(count, 1))

        query_weight = {
            q: idf(sum(df[t] for t in matches[q]) if matches[q] else 1) for q in self.terms
        }
        total_query = sum(query_weight.values()) or 1.0
        scores: list[float] = []
        for words, _head in pool:
            present = set(words)
            covered = 0.0
            matched_words: set[str] = set()
            for q, weight in query_weight.items():
                best = 0.0
                for t in present.intersection(matches[q]):
                    best = max(best, matches[q][t])
                    matched_words.add(t)
                covered += weight * best
            own = sum(idf(df[t]) for t in present) or 1.0
            own_covered = sum(idf(df[t]) for t in matched_words)
            lexical = 100 * (0.5 * covered / total_query + 0.5 * own_covered / own)
            other = " ".join(words)
            ratio = 0.5 * fuzz.token_set_ratio(self.title, other) + 0.5 * fuzz.token_sort_ratio(
                self.title, other
            )
            scores.append(0.4 * ratio + 0.6 * lexical)
        if self.description:
            # Descriptions weigh lightly; compared for the best titles only (they cost more).
            top = sorted(range(size), key=lambda i: -scores[i])[:DESCRIBED]
            scores = [0.85 * score for score in scores]
            for i in top:
                other_description = " ".join(significant_words(pool[i][1]))
                scores[i] += 0.15 * fuzz.token_set_ratio(self.description, other_description)
        return [round(score) for score in scores]

    @staticmethod
    def _same_words(term: str, vocabulary: list[str]) -> dict[str, float]:
        same = {}
        for word in vocabulary:
            if word == term:
                same[word] = 1.0
            elif min(len(word), len(term)) >= 4 and (
                word.startswith(term) or term.startswith(word)
            ):
                same[word] = 0.9
        if len(term) >= 5:  # a typo: "pasword", "crdeit"
            for word, ratio, _ in process.extract(
                term, vocabulary, scorer=fuzz.ratio, score_cutoff=80, limit=None
            ):
                same.setdefault(word, 0.8 * ratio / 100)
        return same


def _url(kind: str, key: str, actor: Any) -> str:
    customer = getattr(actor, "is_customer", False)
    if kind == "ticket":
        return reverse("portal:ticket" if customer else "desk:ticket", args=[key])
    return reverse("bugs:bug", args=[key])


def parse_exclude(ref: str) -> tuple[str | None, str | None]:
    """`exclude=BUG-7` or `exclude=INC-12` as (exclude_bug, exclude_ticket) for `suggest`;
    anything that is not a key excludes nothing."""
    ref = (ref or "").strip().upper()
    if not KEY.fullmatch(ref):
        return None, None
    return (ref, None) if ref.startswith(f"{BUG_PREFIX}-") else (None, ref)
