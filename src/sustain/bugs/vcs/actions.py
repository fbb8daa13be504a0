"""Recording commits: the one door for the push webhook and `sustain vcs scan`.

A commit is stored once per repository however often it is seen (pushes replayed, several
branches, rescans); each branch it was seen on is a row of its own. A commit whose message
fixes a bug marks the bug fixed when it is seen on a branch that counts (the default branch
or a release-line pattern), once per branch: seen again on `release/8.0` it fixes the 8.0 line
too. A commit that refers to a bug links it, from any branch. Replaying a batch changes
nothing and records no event. Set-based: a batch costs a handful of queries plus one call per
bug actually fixed or linked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from sustain.accounts.actions import require_agent
from sustain.bugs.commits import link_commit, mark_fixed_by_commit
from sustain.bugs.models import Bug, BugCommit, Commit, CommitBranch, Repository
from sustain.bugs.vcs import branches, messages
from sustain.core import events
from sustain.core.errors import ActionError, Invalid

SHA = re.compile(r"^[0-9a-f]{4,64}$")
BRANCH_MAX = 200
MESSAGE_MAX = 100_000  # a pasted log in a message is kept; a megabyte is not
CHUNK = 500  # keeps `IN (…)` lists under SQLite's variable limit
BULK = 2000  # from this many commits on, read a repository's index whole


@dataclass(frozen=True)
class CommitData:
    """One commit as a provider's payload or `git log` describes it."""

    sha: str
    message: str
    author_name: str = ""
    author_email: str = ""
    committed_at: datetime | None = None
    url: str = ""


@dataclass
class Result:
    """What a batch did. `fixed` lists the bugs whose state (status or line) changed now,
    `linked` the bugs newly linked by a reference (neither on a replay);
    `pending` the bugs a commit fixes on a branch that does not count (yet); `unknown` the keys
    named that are no bug; `refused` the bugs whose fix or link was refused, with why."""

    branch: str
    counts: bool
    seen: int = 0
    new: int = 0
    on_branch: int = 0  # commits seen on this branch for the first time
    links: int = 0  # new links between a commit and a bug it names
    fixed: list[str] = field(default_factory=list)
    linked: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.new or self.on_branch or self.links or self.fixed or self.linked)

    def summary(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "counts": self.counts,
            "seen": self.seen,
            "new": self.new,
            "on_branch": self.on_branch,
            "links": self.links,
            "fixed": self.fixed,
            "linked": self.linked,
            "pending": self.pending,
            "unknown": self.unknown,
            "refused": [{"bug": k, "reason": r} for k, r in self.refused],
        }


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _clean(commits: Iterable[CommitData]) -> list[CommitData]:
    """Validated and trimmed, each sha once (the first description wins)."""
    cleaned: dict[str, CommitData] = {}
    for i, c in enumerate(commits):
        sha = (c.sha or "").strip().lower() if isinstance(c.sha, str) else ""
        if not SHA.match(sha):
            raise Invalid(f"commits[{i}].sha is not a commit id: {str(c.sha)[:80]!r}.", field="sha")
        if not isinstance(c.message, str):
            raise Invalid(f"commits[{i}].message must be text.", field="message")
        url = (c.url or "").strip()
        if not url.startswith(("https://", "http://")) or len(url) > 500:
            url = ""
        cleaned.setdefault(
            sha,
            CommitData(
                sha=sha,
                message=c.message[:MESSAGE_MAX].replace("\x00", ""),
                author_name=(c.author_name or "")[:200],
                author_email=(c.author_email or "")[:254],
                committed_at=c.committed_at,
                url=url,
            ),
        )
    return list(cleaned.values())


def check_branch(branch: str) -> str:
    branch = (branch or "").strip()
    if not branch:
        raise Invalid("The branch is missing.", field="branch")
    if len(branch) > BRANCH_MAX:
        raise Invalid(f"The branch name is longer than {BRANCH_MAX} characters.", field="branch")
    return branch


def _insert_ignoring_conflicts(model: Any, columns: list[str], rows: list[tuple]) -> None:
    """INSERT … ON CONFLICT DO NOTHING with executemany (SQLite ≥ 3.24 and PostgreSQL):
    a concurrent push of the same commits must not fail this one, and bulk_create's per-field
    preparation costs more than the scan itself at 10,000 commits."""
    if not rows:
        return
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK * 4):
            cursor.executemany(sql, rows[start : start + CHUNK * 4])


def _ids(repository: Repository, shas: list[str]) -> dict[str, int]:
    """Commit ids by sha; a large batch reads the repository's whole index of shas at once
    (cheaper than tens of `IN` lists of 500)."""
    commits = Commit.objects.filter(repository=repository)
    if len(shas) > BULK:
        wanted = set(shas)
        return {sha: pk for sha, pk in commits.values_list("sha", "id") if sha in wanted}
    ids: dict[str, int] = {}
    for part in _chunks(shas):
        ids.update(commits.filter(sha__in=part).values_list("sha", "id"))
    return ids


def _store(repository: Repository, data: list[CommitData]) -> tuple[dict[str, int], int]:
    """Commit ids by sha, creating the missing rows; and how many were new."""
    ids = _ids(repository, [c.sha for c in data])
    adapt = connection.ops.adapt_datetimefield_value
    now = adapt(timezone.now())
    missing = [c for c in data if c.sha not in ids]
    rows = [
        (
            repository.pk,
            c.sha,
            c.message,
            c.author_name,
            c.author_email,
            adapt(c.committed_at) if c.committed_at else None,
            c.url,
            now,
        )
        for c in missing
    ]
    columns = ["repository_id", "sha", "message", "author_name", "author_email"]
    columns += ["committed_at", "url", "created_at"]
    _insert_ignoring_conflicts(Commit, columns, rows)
    ids.update(_ids(repository, [c.sha for c in missing]))
    return ids, len(missing)


def _seen_on(repository: Repository, commit_ids: list[int], branch: str) -> set[int]:
    """Of these commits, those first seen on `branch` now (their branch row is created)."""
    on_branch = CommitBranch.objects.filter(branch=branch)
    known: set[int] = set()
    if len(commit_ids) > BULK:
        known.update(
            on_branch.filter(commit__repository=repository).values_list("commit_id", flat=True)
        )
    else:
        for part in _chunks(commit_ids):
            known.update(on_branch.filter(commit_id__in=part).values_list("commit_id", flat=True))
    fresh = [cid for cid in commit_ids if cid not in known]
    _insert_ignoring_conflicts(CommitBranch, ["commit_id", "branch"], [(c, branch) for c in fresh])
    return set(fresh)


def record_commits(
    actor: Any, repository: Repository, *, branch: str, commits: Iterable[CommitData]
) -> Result:
    """Store the commits seen on `branch` and act on the bug keys their messages name."""
    require_agent(actor)
    branch = check_branch(branch)
    data = _clean(commits)
    counting = branches.counts(repository, branch)
    line = branches.release_line(repository, branch) if counting else None
    result = Result(branch=branch, counts=counting, seen=len(data))
    mentions = {c.sha: m for c in data if (m := messages.parse(c.message))}

    with transaction.atomic():
        ids, result.new = _store(repository, data)
        new_on_branch = _seen_on(repository, [ids[c.sha] for c in data], branch)
        result.on_branch = len(new_on_branch)
        if mentions:
            _act_on_mentions(actor, repository, branch, line, ids, mentions, new_on_branch, result)
        if result.changed:
            events.record(
                repository, "commits.recorded", actor=actor, after=result.summary(), is_public=False
            )
    return result


def _act_on_mentions(
    actor: Any,
    repository: Repository,
    branch: str,
    line: tuple[int, int] | None,
    ids: dict[str, int],
    mentions: dict[str, messages.Mentions],
    new_on_branch: set[int],
    result: Result,
) -> None:
    keys = sorted({k for m in mentions.values() for k in m.keys})
    bugs: dict[str, Bug] = {}
    for part in _chunks(keys):
        bugs.update((b.key, b) for b in Bug.objects.filter(key__in=part))
    result.unknown = [k for k in keys if k not in bugs]
    commit_ids = [ids[sha] for sha in mentions]
    links: set[tuple[int, int, str]] = set()
    for part in _chunks(commit_ids):
        links.update(
            BugCommit.objects.filter(commit_id__in=part).values_list("bug_id", "commit_id", "kind")
        )
    todo = _to_do(ids, mentions, bugs, links, new_on_branch, result)
    # The links first, in one statement: a link states what the message says, whether or not
    # the bug's own state changes (a won't-fix bug named by a fix keeps its status).
    missing = {(bug.pk, commit.pk, kind) for kind, bug, commit in todo} - links
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    _insert_ignoring_conflicts(
        BugCommit,
        ["bug_id", "commit_id", "kind", "branch", "created_at"],
        [(*key, branch, now) for key in missing],
    )
    result.links = len(missing)
    _apply(actor, todo, missing, branch, line, result)
    result.fixed = list(dict.fromkeys(result.fixed))
    result.linked = list(dict.fromkeys(result.linked))
    result.pending = sorted(set(result.pending))


def _to_do(
    ids: dict[str, int],
    mentions: dict[str, messages.Mentions],
    bugs: dict[str, Bug],
    links: set[tuple[int, int, str]],
    new_on_branch: set[int],
    result: Result,
) -> list[tuple[str, Bug, Commit]]:
    """(kind, bug, commit) for every fix and reference still to act on."""
    commits = Commit.objects.in_bulk(list(ids[sha] for sha in mentions))
    FIXES, REFS = BugCommit.Kind.FIXES, BugCommit.Kind.REFS
    todo: list[tuple[str, Bug, Commit]] = []
    for sha, mention in mentions.items():
        cid = ids[sha]
        for bug in filter(None, map(bugs.get, mention.fixes)):
            if not result.counts:
                result.pending.append(bug.key)
            # Fixed once per branch it reaches (a line each), and once the bug exists.
            elif cid in new_on_branch or (bug.pk, cid, FIXES) not in links:
                todo.append((FIXES, bug, commits[cid]))
        for bug in filter(None, map(bugs.get, mention.refs)):
            if (bug.pk, cid, REFS) not in links:
                todo.append((REFS, bug, commits[cid]))
    return todo


def _apply(
    actor: Any,
    todo: list[tuple[str, Bug, Commit]],
    missing: set[tuple[int, int, str]],
    branch: str,
    line: tuple[int, int] | None,
    result: Result,
) -> None:
    """Mark each bug fixed by, or linked to, its commit; refusals are kept in `result`."""
    FIXES, REFS = BugCommit.Kind.FIXES, BugCommit.Kind.REFS
    for kind, bug, commit in todo:
        try:
            if kind == FIXES:
                changed = mark_fixed_by_commit(actor, bug, commit, branch=branch, line=line)
            else:
                changed = link_commit(actor, bug, commit, branch=branch)
        except ActionError as exc:
            result.refused.append((bug.key, exc.message))
            continue
        if kind == FIXES and changed:
            result.fixed.append(bug.key)
        elif kind == REFS and (changed or (bug.pk, commit.pk, kind) in missing):
            result.linked.append(bug.key)
