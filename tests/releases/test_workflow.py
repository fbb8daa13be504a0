"""planned → testing → approved → released, or withdrawn; the quality gate and its override."""

from __future__ import annotations

from sustain.bugs.models import Bug, BugLine
from sustain.core.errors import Conflict, Forbidden, Invalid
from sustain.core.events import for_target
from sustain.releases import actions, gate
from tests.releases.base import ReleaseTestCase


class WorkflowTests(ReleaseTestCase):
    def ready(self):
        release = self.make_release("2.4.2")
        actions.add_bug(self.alice, release, self.bug())
        self.to_testing(release)
        self.passing_run(release)
        return release

    def test_the_whole_way(self) -> None:
        release = self.ready()
        actions.approve(self.mia, release)
        self.assertEqual(release.status, "approved")
        self.assertEqual(release.approved_by, self.mia)
        self.assertEqual(release.gate_override_reason, "")
        actions.publish(self.alice, release)
        release.refresh_from_db()
        release.version.refresh_from_db()
        self.assertEqual(release.status, "released")
        self.assertIsNotNone(release.released_at)
        self.assertEqual(release.version.released_at, release.released_at)
        verbs = [e.verb for e in for_target(release)]
        self.assertEqual(verbs.count("status_changed"), 3)
        self.assertIn("created", verbs)

    def test_illegal_moves_name_from_and_to(self) -> None:
        release = self.make_release("2.4.2")
        with self.assertRaises(Conflict) as caught:
            actions.publish(self.alice, release)
        self.assertIn("from planned to released", caught.exception.message)
        with self.assertRaises(Conflict) as caught:
            actions.approve(self.mia, release)
        self.assertIn("from planned to approved", caught.exception.message)
        with self.assertRaises(Invalid):
            actions.transition(self.alice, release, "shipped")

    def test_withdraw_needs_a_reason_and_is_final(self) -> None:
        release = self.make_release("2.4.2")
        with self.assertRaises(Invalid) as caught:
            actions.transition(self.alice, release, "withdrawn")
        self.assertEqual(caught.exception.errors[0]["field"], "reason")
        actions.transition(self.alice, release, "withdrawn", reason="superseded by 2.4.3")
        self.assertEqual(release.withdrawn_reason, "superseded by 2.4.3")
        with self.assertRaises(Conflict) as caught:
            actions.transition(self.alice, release, "planned")
        self.assertIn("from withdrawn to planned", caught.exception.message)

    def test_a_released_release_is_pulled_by_a_manager_only(self) -> None:
        release = self.released("2.4.2")
        with self.assertRaises(Forbidden):
            actions.transition(self.alice, release, "withdrawn", reason="data loss")
        actions.transition(self.mia, release, "withdrawn", reason="data loss")
        self.assertEqual(release.status, "withdrawn")

    def test_withdrawing_repoints_the_next_release(self) -> None:
        first = self.released("2.4.2")
        middle = self.make_release("2.4.3")
        last = self.make_release("2.4.4")
        self.assertEqual(last.previous, middle)
        actions.transition(self.alice, middle, "withdrawn", reason="merged into 2.4.4")
        last.refresh_from_db()
        self.assertEqual(last.previous, first)

    def test_back_to_testing_revokes_approval(self) -> None:
        release = self.ready()
        actions.approve(self.mia, release)
        actions.transition(self.alice, release, "testing")
        self.assertIsNone(release.approved_at)
        self.assertIsNone(release.approved_by)

    def test_agents_cannot_approve(self) -> None:
        release = self.ready()
        with self.assertRaises(Forbidden):
            actions.approve(self.alice, release)
        self.assertEqual(release.status, "testing")


class GateTests(ReleaseTestCase):
    def setUp(self) -> None:
        self.release = self.make_release("2.4.2")
        self.to_testing(self.release)

    def check(self, name: str):
        return {c.name: c for c in gate.evaluate(self.release).checks}[name]

    def test_every_included_bug_must_be_verified(self) -> None:
        fixed = self.bug("Fixed only", status="fixed")
        closed_unverified = self.bug("Closed without check", status="closed", verified_at=None)
        self.bug("Verified")  # not included
        actions.add_bug(self.alice, self.release, fixed)
        actions.add_bug(self.alice, self.release, closed_unverified)
        actions.add_bug(self.alice, self.release, self.bug("Closed after check", status="closed"))
        check = self.check("bugs_verified")
        self.assertFalse(check.ok)
        self.assertEqual(check.bugs, [fixed.key, closed_unverified.key])
        self.assertIn("2 of 3 included bugs not verified", check.message)

    def test_bugs_targeting_the_release_count_before_a_refresh(self) -> None:
        targeted = self.bug("Targeted", status="in_progress")
        Bug.objects.filter(pk=targeted.pk).update(target_release=self.release)
        self.assertEqual(self.check("bugs_verified").bugs, [targeted.key])

    def test_latest_test_run_must_pass(self) -> None:
        self.assertEqual(self.check("tests_passed").message, "No test run reported yet.")
        self.passing_run(self.release)
        self.assertTrue(self.check("tests_passed").ok)
        actions.add_test_run(self.alice, self.release, result="failed", name="e2e", failed=2)
        check = self.check("tests_passed")
        self.assertFalse(check.ok)
        self.assertIn("'e2e' failed", check.message)
        actions.add_test_run(self.alice, self.release, result="skipped")
        self.assertFalse(self.check("tests_passed").ok)

    def test_no_open_blocker_may_affect_the_version(self) -> None:
        version = self.release.version
        listed = self.bug("Listed", severity="blocker", status="triaged")
        listed.affected_versions.add(version)
        on_line = self.bug("On the line", severity="blocker", status="new")
        self.line(on_line, "2.4")
        fixed_later = self.bug("Fix planned later", severity="blocker", status="in_progress")
        self.line(fixed_later, "2.4", "fix_planned")
        BugLine.objects.filter(bug=fixed_later).update(
            fixed_version=self.make_release("2.4.3").version
        )
        # Not counted: fixed at or below this version, another line, not a blocker, closed.
        fixed_here = self.bug("Fixed here", severity="blocker", status="new")
        self.line(fixed_here, "2.4", "affected", fixed_version=version)
        other_line = self.bug("Other line", severity="blocker", status="new")
        self.line(other_line, "2.3")
        self.line(self.bug("Only major", severity="major", status="new"), "2.4")
        self.line(self.bug("Done", severity="blocker", status="fixed"), "2.4")
        check = self.check("no_open_blockers")
        self.assertFalse(check.ok)
        self.assertEqual(check.bugs, [listed.key, on_line.key, fixed_later.key])

    def test_a_failing_gate_blocks_approval_listing_the_checks(self) -> None:
        with self.assertRaises(Conflict) as caught:
            actions.approve(self.mia, self.release)
        fields = [e["field"] for e in caught.exception.errors]
        self.assertEqual(fields, ["gate.tests_passed"])
        self.assertEqual(self.release.status, "testing")

    def test_a_manager_cannot_override(self) -> None:
        with self.assertRaises(Forbidden) as caught:
            actions.approve(self.mia, self.release, override_reason="ship it")
        self.assertIn("administrator", caught.exception.message)
        self.release.refresh_from_db()
        self.assertEqual(self.release.status, "testing")

    def test_an_admin_overrides_with_a_reason_on_the_record(self) -> None:
        actions.approve(self.root, self.release, override_reason="CI is down; tested by hand")
        self.release.refresh_from_db()
        self.assertEqual(self.release.status, "approved")
        self.assertEqual(self.release.gate_override_reason, "CI is down; tested by hand")
        event = for_target(self.release).get(verb="gate_overridden")
        self.assertEqual(event.after["reason"], "CI is down; tested by hand")
        self.assertEqual([f["check"] for f in event.after["failing"]], ["tests_passed"])
        self.assertEqual(event.actor, self.root)

    def test_an_admin_without_a_reason_is_asked_for_it(self) -> None:
        # An admin may override: the answer asks for the reason, beside the gate's checks.
        for reason in ("", "   "):
            with self.assertRaises(Invalid) as caught:
                actions.approve(self.root, self.release, override_reason=reason)
            fields = [e["field"] for e in caught.exception.errors]
            self.assertEqual(fields, ["override_reason", "gate.tests_passed"])
            self.assertIn("Say why", caught.exception.message)
        self.release.refresh_from_db()
        self.assertEqual(self.release.status, "testing")


class ShippingTests(ReleaseTestCase):
    def test_release_records_the_fix_on_each_bug_line(self) -> None:
        r800 = self.released("8.0.0", "major")
        self.assertTrue(r800)
        plain = self.bug("Plain")
        verified_line = self.bug("Verified line")
        self.line(verified_line, "8.0", "verified")
        earlier = self.bug("Already fixed earlier")
        early_version = self.released("8.0.1").version
        self.line(earlier, "8.0", "fixed", fixed_version=early_version)
        release = self.make_release("8.0.2")
        for bug in (plain, verified_line, earlier):
            actions.add_bug(self.alice, release, bug)
        self.to_testing(release)
        self.passing_run(release)
        actions.approve(self.mia, release)
        actions.publish(self.alice, release)
        lines = {b.bug_id: b for b in BugLine.objects.filter(major=8, minor=0)}
        self.assertEqual(lines[plain.pk].status, "fixed")
        self.assertEqual(lines[plain.pk].fixed_version, release.version)
        self.assertEqual(lines[verified_line.pk].status, "verified")
        self.assertEqual(lines[earlier.pk].fixed_version, early_version)  # the lowest stays
        plain.refresh_from_db()
        self.assertEqual(plain.status, "verified")  # the bug's own status is left alone
        event = for_target(plain).get(verb="line_fixed_in_release")
        self.assertEqual(event.after["fixed_version"], "8.0.2")
