"""The bug workflow: legal moves, 409s naming from and to, timestamps, reopening."""

from datetime import UTC, datetime, timedelta

import time_machine

from sustain.bugs import actions as bugs
from sustain.bugs.models import Status
from sustain.core.errors import Conflict, Forbidden, Invalid
from tests.bugs.base import BugTestCase

MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class TransitionTests(BugTestCase):
    def move(self, bug, *statuses, **kwargs):
        for status in statuses:
            bugs.transition(self.alice, bug, status, **kwargs)
        bug.refresh_from_db()
        return bug

    def test_the_whole_way_sets_each_timestamp(self):
        with time_machine.travel(MORNING, tick=False):
            bug = self.bug()
        steps = [
            (Status.TRIAGED, "triaged_at"),
            (Status.IN_PROGRESS, None),
            (Status.FIXED, "fixed_at"),
            (Status.VERIFIED, "verified_at"),
            (Status.CLOSED, "closed_at"),
        ]
        for hours, (status, stamp) in enumerate(steps, start=1):
            with time_machine.travel(MORNING + timedelta(hours=hours), tick=False):
                self.move(bug, status)
            if stamp:
                self.assertEqual(getattr(bug, stamp), MORNING + timedelta(hours=hours))
        self.assertEqual(bug.status, Status.CLOSED)
        self.assertEqual(self.verbs(bug).count("status_changed"), 5)

    def test_an_illegal_move_is_a_conflict_naming_from_and_to(self):
        bug = self.bug()
        with self.assertRaises(Conflict) as caught:
            bugs.transition(self.alice, bug, Status.VERIFIED)
        message = caught.exception.message
        self.assertIn("from new to verified", message)
        self.assertIn("allowed:", message)
        self.assertEqual(caught.exception.status, 409)

    def test_duplicate_needs_its_own_door_and_unknown_status_is_invalid(self):
        bug = self.bug()
        with self.assertRaises(Invalid) as caught:
            bugs.transition(self.alice, bug, Status.DUPLICATE)
        self.assertIn("original", caught.exception.message)
        with self.assertRaises(Invalid):
            bugs.transition(self.alice, bug, "done")
        with self.assertRaises(Forbidden):
            bugs.transition(self.carol, bug, Status.TRIAGED)

    def test_wont_fix_closes_and_reopen_clears(self):
        bug = self.move(self.bug(), Status.WONT_FIX)
        self.assertIsNotNone(bug.closed_at)
        bug = self.move(bug, Status.TRIAGED)
        self.assertIsNone(bug.closed_at)
        self.assertIn("reopened", self.verbs(bug))
        self.assertFalse(bug.is_regression)  # it was never fixed

    def test_reopen_helper_refuses_open_bugs(self):
        bug = self.bug()
        with self.assertRaises(Conflict):
            bugs.reopen(self.alice, bug)
        self.move(bug, Status.CANNOT_REPRODUCE)
        bugs.reopen(self.alice, bug, status=Status.IN_PROGRESS)
        bug.refresh_from_db()
        self.assertEqual(bug.status, Status.IN_PROGRESS)

    def test_a_reason_is_kept_as_an_internal_note(self):
        bug = self.bug()
        bugs.transition(self.alice, bug, Status.WONT_FIX, reason="Works as designed")
        comment = bug.comments.get()
        self.assertEqual(comment.body, "Works as designed")
        self.assertFalse(comment.is_public)

    def test_the_reporter_is_told_of_status_changes_by_others(self):
        from sustain.core.models import OutboxMessage

        bug = self.bug(self.bob)
        bugs.transition(self.alice, bug, Status.TRIAGED)
        mails = OutboxMessage.objects.filter(kind="email", payload__to=[self.bob.email])
        self.assertEqual(mails.count(), 1)
        bugs.transition(self.bob, bug, Status.IN_PROGRESS)  # not told of one's own change
        self.assertEqual(mails.count(), 1)


class CommitTests(BugTestCase):
    def test_a_fixing_commit_fixes_the_bug_and_its_line_once(self):
        bug = self.bug(affected_versions=[self.v["2.4.1"]])
        commit = self.commit()
        changed = bugs.mark_fixed_by_commit(
            self.alice, bug, commit, branch="release/2.4", line=(2, 4)
        )
        self.assertTrue(changed)
        bug.refresh_from_db()
        self.assertEqual(bug.status, Status.FIXED)
        self.assertIsNotNone(bug.fixed_at)
        line = bug.lines.get(major=2, minor=4)
        self.assertEqual((line.status, line.fixed_by), ("fixed", commit))
        again = bugs.mark_fixed_by_commit(
            self.alice, bug, commit, branch="release/2.4", line=(2, 4)
        )
        self.assertFalse(again)
        self.assertEqual(self.verbs(bug).count("fixed_by_commit"), 1)
        from sustain.core.events import for_target

        event = for_target(bug).get(verb="fixed_by_commit")
        self.assertEqual(event.after["sha"], commit.sha)
        self.assertEqual(event.after["branch"], "release/2.4")

    def test_a_backport_commit_on_another_line_adds_that_line(self):
        bug = self.bug()
        bugs.mark_fixed_by_commit(self.alice, bug, self.commit(), branch="main", line=None)
        bug.refresh_from_db()
        self.assertEqual(bug.status, Status.FIXED)
        self.assertFalse(bug.lines.exists())
        backport = self.commit("b" * 40)
        self.assertTrue(
            bugs.mark_fixed_by_commit(self.alice, bug, backport, branch="release/2.4", line=(2, 4))
        )
        self.assertEqual(bug.lines.get().fixed_by, backport)

    def test_a_verified_line_is_left_alone_and_closed_bugs_stay_closed(self):
        bug = self.bug()
        bugs.set_line_status(
            self.alice, bug, major=2, minor=4, status="verified", fixed_version=self.v["2.4.2"]
        )
        for status in (Status.FIXED, Status.VERIFIED, Status.CLOSED):
            bugs.transition(self.alice, bug, status)
        changed = bugs.mark_fixed_by_commit(self.alice, bug, self.commit(), branch="x", line=(2, 4))
        self.assertFalse(changed)
        bug.refresh_from_db()
        self.assertEqual(bug.status, Status.CLOSED)

    def test_refs_link_once_per_commit_and_branch(self):
        bug = self.bug()
        commit = self.commit()
        self.assertTrue(bugs.link_commit(self.alice, bug, commit, branch="main"))
        self.assertFalse(bugs.link_commit(self.alice, bug, commit, branch="main"))
        self.assertTrue(bugs.link_commit(self.alice, bug, commit, branch="release/2.4"))
        self.assertEqual(self.verbs(bug).count("commit_referenced"), 2)
        self.assertEqual(bug.status, Status.NEW)


class LineTests(BugTestCase):
    def test_line_status_with_versions_of_the_line(self):
        bug = self.bug()
        line = bugs.set_line_status(
            self.alice,
            bug,
            major=2,
            minor=4,
            status="fix_planned",
            planned_version=self.v["2.4.3"],
            introduced_in=self.v["2.4.0"],
        )
        self.assertEqual((line.status, line.planned_version), ("fix_planned", self.v["2.4.3"]))
        line = bugs.set_line_status(
            self.alice, bug, major=2, minor=4, status="fixed", fixed_version=self.v["2.4.3"]
        )
        self.assertEqual(line.fixed_version, self.v["2.4.3"])
        self.assertEqual(line.introduced_in, self.v["2.4.0"])  # kept
        self.assertEqual(self.verbs(bug).count("line_changed"), 2)

    def test_versions_must_be_of_the_line_and_product(self):
        bug = self.bug()
        cases = [
            ({"status": "fixed", "fixed_version": self.v["2.5.0"]}, "fixed_version"),
            ({"status": "fixed", "fixed_version": self.other_version}, "fixed_version"),
            ({"status": "fix_planned"}, "planned_version"),
            ({"status": "affected", "fixed_version": self.v["2.4.2"]}, "fixed_version"),
            ({"status": "broken"}, "status"),
            (
                {
                    "status": "fixed",
                    "fixed_version": self.v["2.4.1"],
                    "introduced_in": self.v["2.4.2"],
                },
                "fixed_version",
            ),
        ]
        for fields, field in cases:
            with self.subTest(field=field, fields=fields), self.assertRaises(Invalid) as caught:
                bugs.set_line_status(self.alice, bug, major=2, minor=4, **fields)
            self.assertEqual(caught.exception.errors[0]["field"], field)
        self.assertFalse(bug.lines.exists())
