"""Kinds are checked by semantic version against the release's line, never by date."""

from __future__ import annotations

from sustain.core.errors import Conflict, Forbidden, Invalid
from sustain.releases import actions
from sustain.releases.models import Release
from tests.releases.base import ReleaseTestCase


class KindTests(ReleaseTestCase):
    def assertRefused(self, version: str, kind: str, *words: str) -> None:
        with self.assertRaises(Invalid) as caught:
            self.make_release(version, kind)
        self.assertEqual(caught.exception.errors[0]["field"], "version")
        for word in words:
            self.assertIn(word, caught.exception.message)

    def test_patch_after_the_lines_latest(self) -> None:
        release = self.make_release("2.4.2", "patch")
        self.assertEqual(release.version.name, "2.4.2")
        self.assertEqual(release.status, "planned")
        self.assertIsNone(release.previous)  # 2.4.1 predates releases in Sustain

    def test_patch_below_the_lines_latest_is_refused_naming_both(self) -> None:
        self.released("2.4.2")
        self.released("2.4.3")
        self.make_release("2.4.4")
        self.assertRefused("2.4.0", "patch", "patch number above 0")

    def test_the_message_says_what_was_expected(self) -> None:
        self.released("2.4.2")
        self.released("2.4.4")
        with self.assertRaises(Invalid) as caught:
            self.make_release("2.4.3", "patch")
        self.assertEqual(
            caught.exception.message,
            "2.4.3 is a patch of 2.4 but the line's latest version is 2.4.4: expected 2.4.5 "
            "or above.",
        )

    def test_patch_needs_an_existing_line(self) -> None:
        self.assertRefused("2.6.1", "patch", "no line 2.6")

    def test_minor_and_major_numbers(self) -> None:
        self.assertRefused("2.5.1", "minor", "expected 2.5.0")
        self.assertRefused("2.3.0", "minor", "latest line is 2.4")
        self.assertRefused("3.1.0", "minor", "no 3.x yet")
        self.assertRefused("2.0.0", "major", "expected 3.0.0")
        self.assertRefused("3.1.0", "major", "expected 3.0.0")
        minor = self.make_release("2.5.0", "minor")
        major = self.make_release("3.0.0", "major")
        self.assertEqual(major.previous, minor)

    def test_backport_orders_by_version_not_date(self) -> None:
        r800 = self.released("8.0.0", "major")
        r810 = self.released("8.1.0", "minor")
        backport = self.make_release("8.0.1", "patch")  # made after 8.1.0
        self.assertEqual(backport.previous, r800)
        self.assertEqual(self.make_release("8.1.1", "patch").previous, r810)
        # 8.0.2 on the old line is judged against 8.0 only.
        self.assertEqual(self.make_release("8.0.2").previous, backport)

    def test_hotfix_jumps_ahead_of_a_planned_patch(self) -> None:
        self.released("2.4.2")
        self.released("2.4.4")
        self.assertRefused("2.4.3", "hotfix", "latest released version is 2.4.4")
        planned = self.make_release("2.4.6", "patch")
        hotfix = self.make_release("2.4.5", "hotfix")
        self.assertEqual(hotfix.previous.version.name, "2.4.4")
        planned.refresh_from_db()
        self.assertEqual(planned.previous, hotfix)
        # Patches must go above everything on the line, planned or not.
        self.assertRefused("2.4.3", "patch", "latest version is 2.4.6")

    def test_hotfix_ahead_of_planned_repoints_it(self) -> None:
        self.released("2.4.2")
        planned = self.make_release("2.4.4", "patch")
        hotfix = self.make_release("2.4.3", "hotfix")
        planned.refresh_from_db()
        self.assertEqual(planned.previous, hotfix)

    def test_a_taken_version_is_a_conflict(self) -> None:
        self.make_release("2.4.2")
        with self.assertRaises(Conflict) as caught:
            self.make_release("2.4.2")
        self.assertIn("already has a release", caught.exception.message)

    def test_not_semver_and_unknown_kind(self) -> None:
        with self.assertRaises(Invalid) as caught:
            self.make_release("2.4", "patch")
        self.assertEqual(caught.exception.errors[0]["field"], "version")
        with self.assertRaises(Invalid) as caught:
            self.make_release("2.4.2", "bugfix")
        self.assertEqual(caught.exception.errors[0]["field"], "kind")

    def test_reuses_an_unreleased_cmdb_version(self) -> None:
        from sustain.cmdb import actions as cmdb

        version = cmdb.add_version(self.root, self.product, name="2.5.0")
        release = self.make_release("2.5.0", "minor")
        self.assertEqual(release.version, version)

    def test_first_release_of_a_product(self) -> None:
        product = self.other_product()
        release = self.make_release("0.1.0", "minor", product=product)
        self.assertIsNone(release.previous)

    def test_a_prerelease_goes_before_its_release(self) -> None:
        candidate = self.make_release("2.5.0-rc.1", "minor")
        final = self.make_release("2.5.0", "minor")
        self.assertEqual(candidate.version.prerelease, "rc.1")
        self.assertEqual(final.previous, candidate.previous)  # never the candidate itself

    def test_customers_cannot_plan_releases(self) -> None:
        with self.assertRaises(Forbidden):
            actions.create_release(self.carol, product=self.product, version="2.4.2", kind="patch")
        self.assertFalse(Release.objects.exists())

    def test_bad_tags_are_refused(self) -> None:
        with self.assertRaises(Invalid) as caught:
            self.make_release("2.4.2", to_tag="--output=/tmp/x")
        self.assertEqual(caught.exception.errors[0]["field"], "to_tag")
