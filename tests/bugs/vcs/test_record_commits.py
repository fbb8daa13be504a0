"""record_commits: stored once, fixes on the branches that count, refs linked, replays idle."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sustain.bugs.models import BugCommit, BugLine, Commit, CommitBranch, Status
from sustain.bugs.vcs.actions import CommitData, record_commits
from sustain.core.errors import Forbidden, Invalid
from sustain.core.events import for_target
from sustain.core.models import Event
from tests.bugs.vcs.base import VcsTestCase, commit, sha


class RecordCommitsTest(VcsTestCase):
    def test_fix_on_the_default_branch(self) -> None:
        result = record_commits(
            self.root,
            self.repo,
            branch="main",
            commits=[commit(1, f"Fixes {self.bug1.key}"), commit(2, "Tidy up")],
        )
        self.assertEqual((result.seen, result.new), (2, 2))
        self.assertEqual(result.fixed, [self.bug1.key])
        self.assertEqual(self.fresh(self.bug1).status, Status.FIXED)
        link = BugCommit.objects.get(bug=self.bug1)
        self.assertEqual((link.kind, link.branch, link.commit.sha), ("fixes", "main", sha(1)))
        self.assertEqual(CommitBranch.objects.filter(branch="main").count(), 2)
        self.assertTrue(for_target(self.bug1).filter(verb="fixed_by_commit").exists())

    def test_replay_changes_nothing_and_records_no_event(self) -> None:
        batch = [commit(1, f"Fixes {self.bug1.key}"), commit(2, f"Refs {self.bug2.key}")]
        record_commits(self.root, self.repo, branch="main", commits=batch)
        events, rows = Event.objects.count(), BugCommit.objects.count()
        again = record_commits(self.root, self.repo, branch="main", commits=batch)
        self.assertEqual((again.new, again.fixed, again.linked), (0, [], []))
        self.assertFalse(again.changed)
        self.assertEqual(Event.objects.count(), events)
        self.assertEqual(BugCommit.objects.count(), rows)
        self.assertEqual(Commit.objects.count(), 2)

    def test_one_event_on_the_repository_per_batch(self) -> None:
        batch = [commit(n, f"Fixes {self.bug1.key}" if n == 1 else "x") for n in range(1, 30)]
        record_commits(self.root, self.repo, branch="main", commits=batch)
        recorded = for_target(self.repo).filter(verb="commits.recorded")
        self.assertEqual(recorded.count(), 1)
        self.assertEqual(recorded.get().after["new"], 29)

    def test_commits_are_stored_once_across_branches(self) -> None:
        batch = [commit(1, "A"), commit(2, "B")]
        record_commits(self.root, self.repo, branch="feature/x", commits=batch)
        result = record_commits(self.root, self.repo, branch="main", commits=batch)
        self.assertEqual((result.new, result.on_branch), (0, 2))
        self.assertEqual(for_target(self.repo).filter(verb="commits.recorded").count(), 2)
        self.assertEqual(Commit.objects.count(), 2)
        self.assertEqual(
            sorted(
                CommitBranch.objects.filter(commit__sha=sha(1)).values_list("branch", flat=True)
            ),
            ["feature/x", "main"],
        )

    def test_a_branch_that_does_not_count_fixes_nothing_until_merged(self) -> None:
        batch = [commit(1, f"Fixes {self.bug1.key}")]
        result = record_commits(self.root, self.repo, branch="feature/totals", commits=batch)
        self.assertFalse(result.counts)
        self.assertEqual((result.fixed, result.pending), ([], [self.bug1.key]))
        self.assertEqual(self.fresh(self.bug1).status, Status.NEW)
        self.assertFalse(BugCommit.objects.exists())
        merged = record_commits(self.root, self.repo, branch="main", commits=batch)
        self.assertEqual(merged.fixed, [self.bug1.key])
        self.assertEqual(self.fresh(self.bug1).status, Status.FIXED)

    def test_a_release_branch_fixes_its_line(self) -> None:
        result = record_commits(
            self.root,
            self.repo,
            branch="release/8.0",
            commits=[commit(1, f"Fixes {self.bug1.key}")],
        )
        self.assertTrue(result.counts)
        line = BugLine.objects.get(bug=self.bug1)
        self.assertEqual((line.major, line.minor, line.status), (8, 0, "fixed"))
        self.assertEqual(line.fixed_by.sha, sha(1))

    def test_the_same_commit_reaching_another_line_fixes_that_line_too(self) -> None:
        batch = [commit(1, f"Fixes {self.bug1.key}")]
        record_commits(self.root, self.repo, branch="main", commits=batch)
        result = record_commits(self.root, self.repo, branch="7.4.x", commits=batch)
        self.assertEqual(result.fixed, [self.bug1.key])
        self.assertEqual(BugLine.objects.get(bug=self.bug1).line, "7.4")
        self.assertEqual(BugCommit.objects.filter(bug=self.bug1).count(), 1)

    def test_refs_link_from_any_branch(self) -> None:
        result = record_commits(
            self.root, self.repo, branch="feature/x", commits=[commit(1, f"Refs {self.bug2.key}")]
        )
        self.assertEqual(result.linked, [self.bug2.key])
        self.assertEqual(BugCommit.objects.get(bug=self.bug2).kind, "refs")
        self.assertEqual(self.fresh(self.bug2).status, Status.NEW)
        self.assertTrue(for_target(self.bug2).filter(verb="commit_referenced").exists())

    def test_unknown_keys_are_reported_and_ignored(self) -> None:
        result = record_commits(
            self.root,
            self.repo,
            branch="main",
            commits=[commit(1, f"Fixes BUG-9999, {self.bug3.key}"), commit(2, "Refs BUG-8888")],
        )
        self.assertEqual(result.unknown, ["BUG-8888", "BUG-9999"])
        self.assertEqual(result.fixed, [self.bug3.key])

    def test_a_bug_created_later_is_fixed_by_a_replay(self) -> None:
        from sustain.bugs import actions as bugs

        key = f"BUG-{int(self.bug3.key.split('-')[1]) + 1}"  # the next bug's
        batch = [commit(1, f"Fixes {key}")]
        self.assertEqual(
            record_commits(self.root, self.repo, branch="main", commits=batch).unknown, [key]
        )
        bug = bugs.create_bug(self.alice, title="Fourth", product=self.product)
        self.assertEqual(bug.key, key)
        result = record_commits(self.root, self.repo, branch="main", commits=batch)
        self.assertEqual(result.fixed, [key])

    def test_several_bugs_in_one_message(self) -> None:
        keys = [self.bug1.key, self.bug2.key, self.bug3.key]
        msg = f"Fixes {keys[0]}, {keys[1]} and {keys[2]}"
        result = record_commits(self.root, self.repo, branch="main", commits=[commit(1, msg)])
        self.assertEqual(sorted(result.fixed), sorted(keys))

    def test_a_refused_fix_is_reported_and_the_rest_recorded(self) -> None:
        from sustain.bugs import actions as bugs

        bugs.transition(self.alice, self.bug2, "wont_fix", reason="Works as designed")
        result = record_commits(
            self.root,
            self.repo,
            branch="main",
            commits=[commit(1, f"Fixes {self.bug1.key}"), commit(2, f"Fixes {self.bug2.key}")],
        )
        self.assertEqual(result.fixed, [self.bug1.key])  # bug2's state did not change
        self.assertEqual(result.links, 2)
        self.assertEqual(self.fresh(self.bug2).status, Status.WONT_FIX)
        self.assertTrue(BugCommit.objects.filter(bug=self.bug2, kind="fixes").exists())

    def test_customers_may_not_record(self) -> None:
        with self.assertRaises(Forbidden):
            record_commits(self.carol, self.repo, branch="main", commits=[commit(1, "x")])
        self.assertFalse(Commit.objects.exists())

    def test_a_bad_commit_refuses_the_whole_batch(self) -> None:
        batch = [commit(1, f"Fixes {self.bug1.key}"), CommitData(sha="not a sha", message="x")]
        with self.assertRaises(Invalid) as caught:
            record_commits(self.root, self.repo, branch="main", commits=batch)
        self.assertIn("commits[1].sha", caught.exception.message)
        self.assertFalse(Commit.objects.exists())
        self.assertEqual(self.fresh(self.bug1).status, Status.NEW)

    def test_branch_is_required(self) -> None:
        with self.assertRaises(Invalid):
            record_commits(self.root, self.repo, branch=" ", commits=[])

    def test_a_large_batch_in_few_queries(self) -> None:
        batch = [commit(n, f"change {n}") for n in range(1, 1201)]
        with CaptureQueriesContext(connection) as queries:
            record_commits(self.root, self.repo, branch="main", commits=batch)
        self.assertEqual(Commit.objects.count(), 1200)
        # A few per 500 commits (the IN lists and bulk inserts), never one per commit.
        self.assertLessEqual(len(queries), 30)
