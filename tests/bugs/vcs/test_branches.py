"""Which branches count, and the release line a branch stands for."""

from __future__ import annotations

import pytest

from sustain.bugs.models import Repository
from sustain.bugs.vcs.branches import counts, release_line

REPO = Repository(name="ledger", default_branch="main", branch_patterns=["release/*", "*.x"])


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("main", True),
        ("release/8.0", True),
        ("8.0.x", True),
        ("feature/login", False),
        ("master", False),
        ("release", False),
        ("", False),
    ],
)
def test_counts(branch: str, expected: bool) -> None:
    assert counts(REPO, branch) is expected


def test_only_the_default_branch_without_patterns() -> None:
    bare = Repository(name="x", default_branch="trunk")
    assert counts(bare, "trunk")
    assert not counts(bare, "release/1.0")


@pytest.mark.parametrize(
    ("branch", "line"),
    [
        ("main", None),
        ("release/8.0", (8, 0)),
        ("8.0.x", (8, 0)),
        ("v8.0-maint", (8, 0)),
        ("release/10.12.3", (10, 12)),
        ("feature/login", None),
    ],
)
def test_release_line(branch: str, line: tuple[int, int] | None) -> None:
    assert release_line(REPO, branch) == line
