"""The Django admin of repositories: the secret goes in, never comes back out."""

from __future__ import annotations

from django.test import Client

import sustain.bugs.vcs.admin  # noqa: F401  (also loaded by sustain/bugs/admin.py)
from sustain.bugs.models import Repository
from sustain.bugs.vcs.actions import record_commits
from tests.bugs.vcs.base import SECRET, VcsTestCase, commit


class AdminTest(VcsTestCase):
    def setUp(self) -> None:
        self.client = Client()
        self.client.force_login(self.root)

    def form(self, **changes: str) -> dict[str, str]:
        data = {
            "name": "ledger",
            "product": str(self.product.pk),
            "provider": "local",
            "url": "",
            "path": "",
            "default_branch": "main",
            "branch_patterns": '["release/*"]',
            "webhook_secret": "",
        }
        return {**data, **changes}

    def test_the_secret_is_kept_and_never_shown(self) -> None:
        page = self.client.get(f"/admin/bugs/repository/{self.repo.pk}/change/")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn(SECRET, page.content.decode())
        url = f"/admin/bugs/repository/{self.repo.pk}/change/"
        self.assertEqual(self.client.post(url, self.form()).status_code, 302)
        self.assertEqual(Repository.objects.get().webhook_secret, SECRET)
        short = self.client.post(url, self.form(webhook_secret="short"))
        self.assertEqual(short.status_code, 200)
        self.assertContains(short, "At least 16 characters")
        self.client.post(url, self.form(webhook_secret="another-secret-0123456789"))
        self.assertEqual(Repository.objects.get().webhook_secret, "another-secret-0123456789")

    def test_commit_pages(self) -> None:
        record_commits(self.root, self.repo, branch="main", commits=[commit(1, "Fixes BUG-1")])
        self.assertEqual(self.client.get("/admin/bugs/commit/").status_code, 200)
        self.assertEqual(self.client.get("/admin/bugs/repository/").status_code, 200)
        self.assertEqual(self.client.get("/admin/bugs/commit/add/").status_code, 403)
