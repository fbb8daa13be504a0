"""Generated release notes: customers read fixes in plain words; the team reads everything."""

from __future__ import annotations

from django.utils import timezone

from sustain.bugs.models import BugCommit, Commit, Repository
from sustain.core.errors import Conflict
from sustain.releases import actions, notes
from tests.releases.base import ReleaseTestCase


class NotesTests(ReleaseTestCase):
    def setUp(self) -> None:
        self.release = self.make_release(
            "2.4.2", summary="A patch for month-end.", known_issues="Exports over 1 GB are slow."
        )
        self.bug_a = self.bug("Totals *double* at month end", severity="critical", incident_count=4)
        repo = Repository.objects.create(name="ledger-src", product=self.product)
        commit = Commit.objects.create(
            repository=repo,
            sha="abcdef0123456789abcdef0123456789abcdef01",
            message="Round totals once\n\nFixes BUG-1",
            committed_at=timezone.now(),
        )
        BugCommit.objects.create(bug=self.bug_a, commit=commit, kind="fixes", branch="release/2.4")
        actions.add_bug(self.alice, self.release, self.bug_a)
        actions.add_change(self.alice, self.release, title="CSV import", kind="feature")
        actions.add_change(self.alice, self.release, title="Patched TLS", kind="security")
        actions.add_change(
            self.alice, self.release, title="Refactored the ledger cache", is_public=False
        )
        actions.add_test_run(self.alice, self.release, result="failed", name="unit", failed=3)

    def test_customer_notes(self) -> None:
        text = self.release.customer_notes
        self.assertTrue(text.startswith("# Ledger 2.4.2\n\n*Patch release, not yet released.*"))
        self.assertIn("A patch for month-end.", text)
        self.assertIn(f"## Fixed\n\n- Totals \\*double\\* at month end ({self.bug_a.key})", text)
        self.assertIn("## Security\n\n- Patched TLS", text)
        self.assertIn("## New features\n\n- CSV import", text)
        self.assertIn("## Known issues\n\nExports over 1 GB are slow.", text)
        self.assertLess(text.index("## Security"), text.index("## New features"))
        for internal in ("Refactored", "abcdef0", "critical", "unit", "release/2.4"):
            self.assertNotIn(internal, text)
        html = notes.html(text)
        self.assertIn("<li>Totals *double* at month end", html)

    def test_internal_notes(self) -> None:
        text = self.release.internal_notes
        self.assertIn("Kind: patch · Status: planned · Previous release: none", text)
        self.assertIn(
            f"| {self.bug_a.key} | Totals \\*double\\* at month end | critical | verified | 4 | Manual |",
            text,
        )
        self.assertIn("- `abcdef0123` Round totals once (release/2.4), " + self.bug_a.key, text)
        self.assertIn("- Refactored the ledger cache *(internal)* [improvement]", text)
        self.assertIn("- unit: **failed**, 0 passed, 3 failed, 0 skipped", text)
        self.assertIn("Quality gate fails", text)

    def test_released_date_and_frozen_notes(self) -> None:
        self.to_testing(self.release)
        actions.approve(self.root, self.release, override_reason="unit flake")
        actions.publish(self.alice, self.release)
        today = timezone.now().strftime("%Y-%m-%d")
        self.assertIn(f"*Patch release, released {today}.*", self.release.customer_notes)
        with self.assertRaises(Conflict):
            actions.edit_notes(self.alice, self.release, customer_notes="late")
        with self.assertRaises(Conflict):
            actions.regenerate_notes(self.alice, self.release)

    def test_edited_notes_are_kept_until_regenerated(self) -> None:
        actions.edit_notes(self.alice, self.release, customer_notes="Our words")
        actions.add_change(self.alice, self.release, title="Dark mode", kind="feature")
        self.release.refresh_from_db()
        self.assertEqual(self.release.customer_notes, "Our words")
        self.assertNotIn("Dark mode", self.release.internal_notes)  # both are hand-kept
        actions.regenerate_notes(self.alice, self.release)
        self.assertIn("Dark mode", self.release.customer_notes)
        self.assertFalse(self.release.notes_edited)
