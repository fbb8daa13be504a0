"""Which branches of a repository count for fixes, and the release line a branch stands for.

GitHub and GitLab close issues from the default branch only; a maintenance team also fixes on
release-line branches (`release/8.0`, `8.0.x`), so each repository names their patterns.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from sustain.bugs.models import Repository

_LINE = re.compile(r"(?<!\d)(\d{1,6})\.(\d{1,6})")


def counts(repository: Repository, branch: str) -> bool:
    """Commits on this branch fix bugs: the default branch, or one matching a pattern."""
    if not branch:
        return False
    if branch == repository.default_branch:
        return True
    return any(fnmatchcase(branch, p) for p in repository.branch_patterns or [] if p)


def release_line(repository: Repository, branch: str) -> tuple[int, int] | None:
    """(8, 0) for `release/8.0`, `8.0.x`, `v8.0-maint`; None for the default branch (the
    development line) and for branches that name no line."""
    if branch == repository.default_branch:
        return None
    match = _LINE.search(branch)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))
