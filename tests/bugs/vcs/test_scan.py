"""`sustain vcs scan` and commits_between on real git repositories in temporary directories."""

from __future__ import annotations

import tempfile
from io import StringIO
from pathlib import Path

from django.core.management import CommandError, call_command

from sustain.bugs.models import BugCommit, BugLine, Commit, CommitBranch, Repository, Status
from sustain.bugs.vcs.scan import commits_between
from sustain.core.errors import Invalid, NotFound
from tests.bugs.vcs.base import VcsTestCase
from tests.bugs.vcs.gitrepo import GitRepo


class ScanTest(VcsTestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = Path(tmp.name)
        self.git = GitRepo(self.tmp / "billing")

    def scan(self, *args: str) -> str:
        out = StringIO()
        call_command("vcs", "scan", *args, stdout=out)
        return out.getvalue()

    def test_a_new_repository_is_created_from_the_directory(self) -> None:
        self.git.commit("Initial import")
        first = self.git.commit(f"Fix rounding\n\nFixes {self.bug1.key}")
        self.git.commit(f"Refs {self.bug2.key}: more logging")
        out = self.scan(str(self.git.path))
        repo = Repository.objects.get(name="billing")
        self.assertEqual((repo.provider, repo.default_branch), ("local", "main"))
        self.assertEqual(repo.path, str(self.git.path.resolve()))
        self.assertIn("3 commits seen, 3 new, 1 bugs fixed, 1 linked, 0 unknown keys", out)
        self.assertEqual(self.fresh(self.bug1).status, Status.FIXED)
        fixed = Commit.objects.get(sha=first)
        self.assertEqual(fixed.author_name, "Rita Coder")
        self.assertEqual(fixed.message, f"Fix rounding\n\nFixes {self.bug1.key}")
        self.assertIsNotNone(fixed.committed_at)

    def test_rescan_changes_nothing(self) -> None:
        self.git.commit(f"Fixes {self.bug1.key}")
        self.scan(str(self.git.path))
        links = BugCommit.objects.count()
        out = self.scan(str(self.git.path))
        self.assertIn("1 commits seen, 0 new, 0 bugs fixed, 0 linked", out)
        self.assertEqual(Commit.objects.count(), 1)
        self.assertEqual(BugCommit.objects.count(), links)

    def test_branch_patterns_choose_the_branches(self) -> None:
        self.git.commit("Initial")
        self.git.branch("release/8.0")
        self.git.branch("feature/x")
        self.git.checkout("release/8.0")
        backport = self.git.commit(f"Backport: fixes {self.bug1.key}")
        self.git.checkout("feature/x")
        self.git.commit(f"Fixes {self.bug2.key}")
        self.git.checkout("main")
        self.scan(str(self.git.path), "--repository", "ledger")  # patterns release/*, *.x
        self.assertEqual(
            sorted(set(CommitBranch.objects.values_list("branch", flat=True))),
            ["main", "release/8.0"],
        )
        line = BugLine.objects.get(bug=self.bug1)
        self.assertEqual((line.line, line.fixed_by.sha), ("8.0", backport))
        self.assertEqual(self.fresh(self.bug2).status, Status.NEW)

    def test_named_branches_only(self) -> None:
        self.git.commit("Initial")
        self.git.branch("feature/x")
        self.git.checkout("feature/x")
        self.git.commit(f"Fixes {self.bug2.key}")
        out = self.scan(str(self.git.path), "--repository", "ledger", "--branch", "feature/x")
        self.assertIn("does not count", out)
        self.assertIn(f"fixed on branches that do not count: {self.bug2.key}", out)
        self.assertEqual(self.fresh(self.bug2).status, Status.NEW)
        with self.assertRaisesMessage(CommandError, "No branch nope"):
            self.scan(str(self.git.path), "--repository", "ledger", "--branch", "nope")

    def test_remote_tracking_branches_count(self) -> None:
        self.git.commit("Initial")
        self.git.branch("release/9.1")
        self.git.checkout("release/9.1")
        self.git.commit(f"Fixes {self.bug3.key}")
        self.git.checkout("main")
        clone = self.tmp / "clone"
        GitRepo.clone(self.git.path, clone)
        self.scan(str(clone), "--repository", "ledger")
        self.assertEqual(BugLine.objects.get(bug=self.bug3).line, "9.1")

    def test_since_is_exclusive(self) -> None:
        old = self.git.commit(f"Fixes {self.bug1.key}")
        self.git.commit(f"Fixes {self.bug2.key}")
        out = self.scan(str(self.git.path), "--since", old)
        self.assertIn("1 commits seen, 1 new", out)
        self.assertEqual(self.fresh(self.bug1).status, Status.NEW)
        self.assertEqual(self.fresh(self.bug2).status, Status.FIXED)
        with self.assertRaisesMessage(CommandError, "no commit 'v0'"):
            self.scan(str(self.git.path), "--since", "v0")

    def test_unknown_keys_are_listed(self) -> None:
        self.git.commit("Fixes BUG-99999")
        self.assertIn("unknown keys: BUG-99999", self.scan(str(self.git.path)))

    def test_messages_with_odd_bytes_survive(self) -> None:
        self.git.commit("Ümlaut\n\nline with \x1f unit separator\n\nFixes " + self.bug1.key)
        self.scan(str(self.git.path))
        self.assertIn("\x1f", Commit.objects.get().message)
        self.assertEqual(self.fresh(self.bug1).status, Status.FIXED)

    def test_errors(self) -> None:
        with self.assertRaisesMessage(CommandError, "is not a directory"):
            self.scan(str(self.tmp / "missing"))
        plain = self.tmp / "plain"
        plain.mkdir()
        with self.assertRaisesMessage(CommandError, "not a git repository"):
            self.scan(str(plain))
        self.git.commit("x")
        Repository.objects.filter(pk=self.repo.pk).update(name="billing", path="/elsewhere")
        with self.assertRaisesMessage(CommandError, "--repository"):
            self.scan(str(self.git.path))
        with self.assertRaisesMessage(CommandError, "No repository named 'nope'"):
            self.scan(str(self.git.path), "--repository", "nope")


class CommitsBetweenTest(VcsTestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.git = GitRepo(Path(tmp.name) / "ledger")
        self.git.commit("Initial")
        self.git.tag("v8.0.0")
        self.shas = [self.git.commit(f"Change {n}") for n in range(3)]
        self.git.tag("v8.0.1")
        Repository.objects.filter(pk=self.repo.pk).update(path=str(self.git.path))
        self.repo.refresh_from_db()

    def test_the_commits_a_tag_adds(self) -> None:
        self.assertEqual(commits_between(self.repo, "v8.0.0", "v8.0.1"), self.shas[::-1])
        self.assertEqual(commits_between(self.repo, "v8.0.1", "v8.0.1"), [])

    def test_clear_errors(self) -> None:
        with self.assertRaises(NotFound) as caught:
            commits_between(self.repo, "v7.9.9", "v8.0.1")
        self.assertEqual(caught.exception.errors[0]["field"], "from_tag")
        with self.assertRaises(NotFound) as caught:
            commits_between(self.repo, "v8.0.0", "v9")
        self.assertEqual(caught.exception.errors[0]["field"], "to_tag")
        with self.assertRaises(Invalid):
            commits_between(self.repo, "--all", "v8.0.1")
        Repository.objects.filter(pk=self.repo.pk).update(path="")
        self.repo.refresh_from_db()
        with self.assertRaisesMessage(Invalid, "no local path"):
            commits_between(self.repo, "v8.0.0", "v8.0.1")
        self.repo.path = "/nonexistent/ledger"
        with self.assertRaisesMessage(NotFound, "is not a directory"):
            commits_between(self.repo, "v8.0.0", "v8.0.1")

    def test_the_command(self) -> None:
        out = StringIO()
        call_command("vcs", "between", "ledger", "v8.0.0", "v8.0.1", stdout=out)
        self.assertEqual(out.getvalue().split(), self.shas[::-1])
        with self.assertRaisesMessage(CommandError, "no commit 'v9'"):
            call_command("vcs", "between", "ledger", "v8.0.0", "v9", stdout=out)
        with self.assertRaisesMessage(CommandError, "No repository named 'x'"):
            call_command("vcs", "between", "x", "v8.0.0", "v9", stdout=out)
