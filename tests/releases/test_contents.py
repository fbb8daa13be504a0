"""What a release carries: bugs by target release, by commits between two tags, by hand."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from sustain.bugs.models import Bug, BugCommit, Commit, Repository
from sustain.core.errors import Conflict, Invalid
from sustain.releases import actions
from sustain.releases.models import ReleaseBug
from tests.releases.base import ReleaseTestCase


def git(path: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.test",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.test",
        "HOME": str(path),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        ["git", "-C", str(path), *args], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.strip()


class TargetAndManualTests(ReleaseTestCase):
    def test_bugs_targeting_the_release_are_included_and_follow_the_target(self) -> None:
        release = self.make_release("2.4.2")
        bug = self.bug("Targeted")
        Bug.objects.filter(pk=bug.pk).update(target_release=release)
        result = actions.refresh_contents(self.alice, release)
        self.assertEqual(result, {"added": [bug.key], "removed": []})
        link = release.bug_links.get()
        self.assertEqual(link.source, "target")
        with self.assertRaises(Conflict) as caught:
            actions.remove_bug(self.alice, release, bug)
        self.assertIn("change the bug's target release", caught.exception.message)
        Bug.objects.filter(pk=bug.pk).update(target_release=None)
        self.assertEqual(actions.refresh_contents(self.alice, release)["removed"], [bug.key])
        self.assertFalse(release.bug_links.exists())

    def test_targets_join_on_testing_and_approval(self) -> None:
        release = self.make_release("2.4.2")
        early, late = self.bug("Early", status="fixed"), self.bug("Late")
        Bug.objects.filter(pk=early.pk).update(target_release=release)
        self.to_testing(release)
        self.assertEqual([link.bug for link in release.bug_links.all()], [early])
        Bug.objects.filter(pk=late.pk).update(target_release=release)
        with self.assertRaises(Conflict) as caught:
            actions.approve(self.mia, release)
        # Both were judged, though nobody refreshed the contents (a refusal writes nothing).
        self.assertIn(f"1 of 2 included bugs not verified: {early.key}", caught.exception.message)
        self.assertEqual(release.bug_links.count(), 1)

    def test_targets_are_read_when_the_release_is_planned(self) -> None:
        planned = self.make_release("2.4.2")
        bug = self.bug()
        Bug.objects.filter(pk=bug.pk).update(target_release=planned)
        again = self.make_release("2.4.3")
        self.assertFalse(again.bug_links.exists())

    def test_manual_add_and_remove(self) -> None:
        release = self.make_release("2.4.2")
        bug = self.bug("By hand")
        actions.add_bug(self.alice, release, bug)
        with self.assertRaises(Conflict):
            actions.add_bug(self.alice, release, bug)
        self.assertIn(bug.key, release.customer_notes)
        actions.remove_bug(self.alice, release, bug)
        self.assertFalse(release.bug_links.exists())
        release.refresh_from_db()
        self.assertNotIn(bug.key, release.customer_notes)
        with self.assertRaises(Invalid):
            actions.remove_bug(self.alice, release, bug)

    def test_a_bug_of_another_product_is_refused(self) -> None:
        release = self.make_release("2.4.2")
        with self.assertRaises(Invalid) as caught:
            actions.add_bug(self.alice, release, self.bug(product=self.other_product()))
        self.assertEqual(caught.exception.errors[0]["field"], "bug")

    def test_contents_are_frozen_after_approval(self) -> None:
        release = self.make_release("2.4.2")
        self.to_testing(release)
        actions.approve(self.root, release, override_reason="hand tested")
        with self.assertRaises(Conflict):
            actions.add_bug(self.alice, release, self.bug())
        with self.assertRaises(Conflict):
            actions.add_change(self.alice, release, title="Late")
        with self.assertRaises(Conflict):
            actions.refresh_contents(self.alice, release)

    def test_changes_crud(self) -> None:
        release = self.make_release("2.4.2")
        change = actions.add_change(self.alice, release, title="Faster export", kind="feature")
        actions.update_change(self.alice, change, title="Much faster export", is_public=False)
        change.refresh_from_db()
        self.assertEqual(change.title, "Much faster export")
        self.assertFalse(change.is_public)
        with self.assertRaises(Invalid) as caught:
            actions.add_change(self.alice, release, title="x", kind="rumour")
        self.assertEqual(caught.exception.errors[0]["field"], "kind")
        actions.delete_change(self.alice, change)
        self.assertFalse(release.changes.exists())


class CommitTests(ReleaseTestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        path = Path(self.tmp.name)
        git(path, "init", "-q", "-b", "main")
        self.shas = {}
        for name in ("base", "fix-a", "fix-b", "after"):
            (path / "f.txt").write_text(name)
            git(path, "add", "f.txt")
            git(path, "commit", "-q", "-m", f"{name} commit")
            self.shas[name] = git(path, "rev-parse", "HEAD")
            if name == "base":
                git(path, "tag", "v2.4.1")
            if name == "fix-b":
                git(path, "tag", "v2.4.2")
        self.repo = Repository.objects.create(name="ledger", product=self.product, path=str(path))
        self.bug_a, self.bug_b, self.bug_after = self.bug("A"), self.bug("B"), self.bug("After")
        for bug, sha in ((self.bug_a, "fix-a"), (self.bug_b, "fix-b"), (self.bug_after, "after")):
            commit = Commit.objects.create(
                repository=self.repo, sha=self.shas[sha], message=f"Fix {bug.key}\n\nbody"
            )
            BugCommit.objects.create(bug=bug, commit=commit, kind="fixes", branch="release/2.4")
        # A reference is not a fix.
        self.bug_refs = self.bug("Only referenced")
        BugCommit.objects.create(
            bug=self.bug_refs, commit=Commit.objects.get(sha=self.shas["fix-a"]), kind="refs"
        )

    def test_bugs_fixed_between_the_tags(self) -> None:
        release = self.make_release(
            "2.4.2", repository=self.repo, from_tag="v2.4.1", to_tag="v2.4.2"
        )
        links = dict(release.bug_links.values_list("bug__key", "source"))
        self.assertEqual(links, {self.bug_a.key: "commits", self.bug_b.key: "commits"})
        self.assertIn(self.shas["fix-a"][:10], release.internal_notes)
        self.assertIn("release/2.4", release.internal_notes)
        # Moving the tag range moves the contents.
        actions.update_release(self.alice, release, from_tag="v2.4.2", to_tag="main")
        self.assertEqual(
            list(release.bug_links.values_list("bug__key", flat=True)), [self.bug_after.key]
        )

    def test_from_tag_defaults_to_the_previous_releases_tag(self) -> None:
        self.released("2.4.2", repository=self.repo, from_tag="v2.4.1", to_tag="v2.4.2")
        release = self.make_release("2.4.3", repository=self.repo, to_tag="main")
        self.assertEqual(
            list(release.bug_links.values_list("bug__key", flat=True)), [self.bug_after.key]
        )

    def test_a_bug_added_by_hand_keeps_its_link(self) -> None:
        release = self.make_release("2.4.2", repository=self.repo)
        actions.add_bug(self.alice, release, self.bug_a)
        actions.update_release(self.alice, release, from_tag="v2.4.1", to_tag="v2.4.2")
        sources = dict(release.bug_links.values_list("bug__key", "source"))
        self.assertEqual(sources[self.bug_a.key], ReleaseBug.Source.MANUAL)
        self.assertEqual(sources[self.bug_b.key], ReleaseBug.Source.COMMITS)

    def test_an_unknown_tag_is_a_422(self) -> None:
        with self.assertRaises(Invalid) as caught:
            self.make_release("2.4.2", repository=self.repo, from_tag="v2.4.1", to_tag="v9.9.9")
        self.assertEqual(caught.exception.errors[0]["field"], "to_tag")
