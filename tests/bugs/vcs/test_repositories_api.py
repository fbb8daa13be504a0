"""Repositories and their commits through the API: administrators write, agents read."""

from __future__ import annotations

from sustain.bugs.models import Commit, Repository
from sustain.bugs.vcs.actions import record_commits
from sustain.core.events import for_target
from tests.bugs.vcs.base import SECRET, VcsTestCase, commit, sha

BASE = "/api/v1/vcs/repositories"


class RepositoryApiTest(VcsTestCase):
    def test_create_never_shows_the_secret(self) -> None:
        response = self.api(self.root).post(
            BASE,
            {
                "name": "billing",
                "product": self.product.slug,
                "provider": "gitea",
                "url": "https://git.example.test/acme/billing",
                "default_branch": "trunk",
                "branch_patterns": ["release/*"],
                "webhook_secret": "a-long-enough-secret-42",
            },
        )
        self.assertEqual(response.status_code, 201, response.content)
        data = response.json()
        self.assertTrue(data["has_secret"])
        self.assertNotIn("a-long-enough-secret-42", response.content.decode())
        self.assertEqual(data["push_url"], f"{BASE}/{data['id']}/push")
        self.assertEqual(data["product"], self.product.slug)
        repo = Repository.objects.get(pk=data["id"])
        event = for_target(repo).get(verb="repository.created")
        self.assertNotIn("a-long-enough-secret-42", str(event.after))

    def test_agents_read_customers_see_nothing(self) -> None:
        self.assertEqual(self.api(self.alice).get(f"{BASE}/{self.repo.pk}").status_code, 200)
        self.assertEqual(len(self.api(self.alice).get(BASE).json()["results"]), 1)
        self.assertEqual(self.api(self.carol).get(f"{BASE}/{self.repo.pk}").status_code, 404)
        self.assertEqual(self.api(self.carol).get(BASE).json()["results"], [])
        self.assertNotIn(SECRET, self.api(self.alice).get(BASE).content.decode())

    def test_only_administrators_write(self) -> None:
        alice = self.api(self.alice)
        self.assertEqual(alice.post(BASE, {"name": "x"}).status_code, 403)
        self.assertEqual(alice.patch(f"{BASE}/{self.repo.pk}", {"name": "y"}).status_code, 403)
        self.assertEqual(alice.delete(f"{BASE}/{self.repo.pk}").status_code, 403)
        self.assertEqual(Repository.objects.get().name, "ledger")

    def test_bad_input_names_the_field(self) -> None:
        root = self.api(self.root)
        cases = [
            ({"name": "x", "webhook_secret": "short"}, "webhook_secret"),
            ({"name": "x", "url": "ftp://x"}, "url"),
            ({"name": "x", "path": "relative/dir"}, "path"),
            ({"name": "x", "product": "nope"}, "product"),
            ({"name": "x", "provider": "svn"}, "provider"),
            ({"name": "x", "branch_patterns": ["a b"]}, "branch_patterns"),
            ({"name": "x", "default_branch": "a b"}, "default_branch"),
            ({"name": ""}, "name"),
        ]
        for body, field in cases:
            with self.subTest(field=field):
                response = root.post(BASE, body)
                self.assertEqual(response.status_code, 422, response.content)
                self.assertEqual(response.json()["errors"][0]["field"], field)
        duplicate = root.post(BASE, {"name": "ledger"})
        self.assertEqual(duplicate.status_code, 409)
        self.assertEqual(Repository.objects.count(), 1)

    def test_patch_rotates_the_secret_without_showing_it(self) -> None:
        response = self.api(self.root).patch(
            f"{BASE}/{self.repo.pk}",
            {"webhook_secret": "the-new-secret-0123456789", "branch_patterns": ["*.x"]},
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["branch_patterns"], ["*.x"])
        event = for_target(self.repo).get(verb="repository.updated")
        self.assertNotIn("the-new-secret", str(event.before) + str(event.after))
        self.assertEqual(Repository.objects.get().webhook_secret, "the-new-secret-0123456789")
        cleared = self.api(self.root).patch(f"{BASE}/{self.repo.pk}", {"webhook_secret": ""})
        self.assertFalse(cleared.json()["has_secret"])
        refused = self.api(self.root).patch(f"{BASE}/{self.repo.pk}", {"name": None})
        self.assertEqual(refused.status_code, 422)

    def test_delete_removes_the_commits(self) -> None:
        record_commits(self.root, self.repo, branch="main", commits=[commit(1, "x")])
        self.assertEqual(self.api(self.root).delete(f"{BASE}/{self.repo.pk}").status_code, 204)
        self.assertFalse(Commit.objects.exists())


class CommitApiTest(VcsTestCase):
    def setUp(self) -> None:
        record_commits(
            self.root,
            self.repo,
            branch="main",
            commits=[
                commit(1, f"Fixes {self.bug1.key}"),
                commit(2, f"Refs {self.bug1.key}, see {self.bug2.key}"),
                commit(3, "Tidy"),
            ],
        )
        record_commits(self.root, self.repo, branch="release/8.0", commits=[commit(1, "x")])

    def test_commits_of_a_bug(self) -> None:
        response = self.api(self.alice).get("/api/v1/vcs/commits", bug=self.bug1.key.lower())
        self.assertEqual(response.status_code, 200, response.content)
        rows = response.json()["results"]
        self.assertEqual([r["sha"] for r in rows], [sha(2), sha(1)])
        fix = rows[1]
        self.assertEqual(fix["branches"], ["main", "release/8.0"])
        self.assertEqual(fix["bugs"], [{"bug": self.bug1.key, "kind": "fixes", "branch": "main"}])
        self.assertEqual(fix["repository"], "ledger")

    def test_filters_and_pages(self) -> None:
        alice = self.api(self.alice)
        on_release = alice.get("/api/v1/vcs/commits", branch="release/8.0").json()["results"]
        self.assertEqual([r["sha"] for r in on_release], [sha(1)])
        first = alice.get(f"{BASE}/{self.repo.pk}/commits", limit=2).json()
        self.assertEqual(len(first["results"]), 2)
        self.assertIsNotNone(first["next"])
        by_name = alice.get("/api/v1/vcs/commits", repository="ledger").json()["results"]
        self.assertEqual(len(by_name), 3)
        self.assertEqual(alice.get("/api/v1/vcs/commits", repository="other").json()["results"], [])
        self.assertEqual(alice.get("/api/v1/vcs/commits", bug="INC-1").status_code, 422)

    def test_customers_see_no_commits(self) -> None:
        response = self.api(self.carol).get("/api/v1/vcs/commits", bug=self.bug1.key)
        self.assertEqual(response.json()["results"], [])
        self.assertEqual(
            self.api(self.carol).get(f"{BASE}/{self.repo.pk}/commits").status_code, 404
        )
