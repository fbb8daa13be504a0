"""The admin shows releases; the workflow stays with the actions."""

from __future__ import annotations

from tests.releases.base import ReleaseTestCase


class AdminTests(ReleaseTestCase):
    def test_admin_lists_and_shows_releases_read_only_workflow(self) -> None:
        release = self.make_release("2.4.2")
        self.passing_run(release)
        self.client.force_login(self.root)
        for path in (
            "/admin/releases/release/",
            f"/admin/releases/release/{release.pk}/change/",
            "/admin/releases/testrun/",
            "/admin/releases/deployment/",
        ):
            self.assertEqual(self.client.get(path).status_code, 200, path)
        self.assertEqual(self.client.get("/admin/releases/release/add/").status_code, 403)
        page = self.client.get(f"/admin/releases/release/{release.pk}/change/").content.decode()
        self.assertNotIn('name="status"', page)
