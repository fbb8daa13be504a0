"""Reading a local git repository with `git` itself: `sustain vcs scan` and the commits between
two release tags (for release contents).

`git log -z` separates commits with NUL, which no commit message can contain; inside one,
the first four lines are the sha, author name, author e-mail and commit date (none of which
can hold a newline), the rest is the message.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sustain.bugs.models import Repository
from sustain.bugs.vcs import branches as branch_rules
from sustain.bugs.vcs import repositories
from sustain.bugs.vcs.actions import CommitData, Result, record_commits
from sustain.core.errors import Invalid, NotFound

LOG_FORMAT = "%H%n%an%n%ae%n%cI%n%B"
# A repository's own configuration must not run programs for us (fsmonitor hooks).
GIT = ("git", "-c", "core.fsmonitor=false")
GIT_TIMEOUT = 600


class GitError(Invalid):
    """git refused (not a repository, an unknown revision…): what it said."""


def git(path: str | Path, *args: str, field: str = "path") -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            [*GIT, "-C", str(path), *args],
            capture_output=True,
            env=env,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed on this machine.", field=field) from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than {GIT_TIMEOUT} s.", field=field) from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} in {path}: {said[-1] if said else 'failed'}", field=field)
    return done.stdout.decode("utf-8", "replace")


def check_repository_path(path: str | Path, field: str = "path") -> Path:
    where = Path(path).expanduser()
    if not str(path) or not where.is_dir():
        raise NotFound(f"{path or '(empty path)'} is not a directory.", field=field)
    git(where, "rev-parse", "--git-dir", field=field)
    return where.resolve()


def verify(path: str | Path, revision: str, field: str) -> str:
    """The commit a revision (sha, tag, branch) names; refused with its field otherwise."""
    if not revision or revision.startswith("-"):
        raise Invalid(f"{field}: '{revision}' is not a revision.", field=field)
    out = subprocess.run(
        [*GIT, "-C", str(path), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    if out.returncode != 0:
        raise NotFound(f"{field}: no commit '{revision}' in {path}.", field=field)
    return out.stdout.decode().strip()


def head_branch(path: str | Path) -> str | None:
    out = subprocess.run(
        [*GIT, "-C", str(path), "symbolic-ref", "--short", "-q", "HEAD"],
        capture_output=True,
        check=False,
    )
    name = out.stdout.decode("utf-8", "replace").strip()
    return name or None


def refs(path: str | Path) -> dict[str, str]:
    """Branch name -> ref, local branches first, then remote-tracking ones not also local
    (`origin/release/8.0` stands for `release/8.0`)."""
    lines = git(path, "for-each-ref", "--format=%(refname)", "refs/heads", "refs/remotes")
    found: dict[str, str] = {}
    remote: dict[str, str] = {}
    for ref in lines.splitlines():
        if ref.startswith("refs/heads/"):
            found[ref.removeprefix("refs/heads/")] = ref
        elif ref.startswith("refs/remotes/"):
            parts = ref.removeprefix("refs/remotes/").split("/", 1)
            if len(parts) == 2 and parts[1] != "HEAD":
                remote.setdefault(parts[1], ref)
    for name, ref in remote.items():
        found.setdefault(name, ref)
    return found


def read_commits(path: str | Path, ref: str, since: str | None = None) -> list[CommitData]:
    """The commits reachable from `ref` (and not from `since`), oldest first."""
    spec = f"{since}..{ref}" if since else ref
    out = git(path, "log", "-z", "--reverse", f"--format={LOG_FORMAT}", "--encoding=UTF-8", spec)
    commits = []
    for record in out.split("\x00"):
        record = record.lstrip("\n")
        if not record:
            continue
        parts = record.split("\n", 4)
        if len(parts) < 4:
            continue
        sha, name, email, date = parts[:4]
        message = parts[4].rstrip("\n") if len(parts) == 5 else ""
        commits.append(
            CommitData(
                sha=sha,
                message=message,
                author_name=name,
                author_email=email,
                committed_at=datetime.fromisoformat(date) if date else None,
            )
        )
    return commits


@dataclass
class ScanResult:
    repository: Repository
    branches: list[Result] = field(default_factory=list)
    shas: set[str] = field(default_factory=set)

    @property
    def seen(self) -> int:
        """Commits read, each once however many branches carry it."""
        return len(self.shas)

    @property
    def new(self) -> int:
        return sum(r.new for r in self.branches)

    def keys(self, attribute: str) -> list[str]:
        return sorted({k for r in self.branches for k in getattr(r, attribute)})


def scan(
    actor: Any,
    repository: Repository,
    path: str | Path,
    *,
    since: str | None = None,
    only: list[str] | None = None,
) -> ScanResult:
    """Record the commits of the branches that count (or of the branches named in `only`)."""
    where = check_repository_path(path)
    if since:
        verify(where, since, "since")
    available = refs(where)
    if only:
        missing = [b for b in only if b not in available]
        if missing:
            raise NotFound(f"No branch {', '.join(missing)} in {where}.", field="branch")
        chosen = list(dict.fromkeys(only))
    else:
        chosen = [b for b in available if branch_rules.counts(repository, b)]
        chosen.sort(key=lambda b: (b != repository.default_branch, b))
    result = ScanResult(repository)
    for branch in chosen:
        commits = read_commits(where, available[branch], since)
        result.shas.update(c.sha for c in commits)
        result.branches.append(record_commits(actor, repository, branch=branch, commits=commits))
    return result


def repository_for(actor: Any, path: str | Path, name: str | None = None) -> Repository:
    """The repository named, or the one whose path this is, or a new local one named after
    the directory (its default branch: the one checked out)."""
    where = check_repository_path(path)
    if name:
        repository = Repository.objects.filter(name=name).first()
        if repository is None:
            raise NotFound(f"No repository named '{name}'.", field="repository")
        if not repository.path:
            repositories.update_repository(actor, repository, path=str(where))
        return repository
    repository = Repository.objects.filter(path=str(where)).first()
    if repository is not None:
        return repository
    if Repository.objects.filter(name=where.name).exists():
        raise Invalid(
            f"A repository named '{where.name}' has another path: name the one to scan "
            "(--repository).",
            field="repository",
        )
    return repositories.create_repository(
        actor,
        name=where.name,
        provider=Repository.Provider.LOCAL,
        path=str(where),
        default_branch=head_branch(where) or "main",
    )


def commits_between(repository: Repository, from_tag: str, to_tag: str) -> list[str]:
    """The shas of `git rev-list from_tag..to_tag` in the repository's clone (newest first):
    what a release tagged `to_tag` adds to `from_tag`."""
    if not repository.path:
        raise Invalid(
            f"Repository '{repository.name}' has no local path: set one to read its tags.",
            field="path",
        )
    where = check_repository_path(repository.path)
    first = verify(where, from_tag, "from_tag")
    last = verify(where, to_tag, "to_tag")
    return git(where, "rev-list", f"{first}..{last}").split()
