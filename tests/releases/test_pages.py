"""The release pages: list, new, the release page and its in-place actions."""

from __future__ import annotations

from django.test import Client

from sustain.core.events import for_target
from sustain.releases import actions
from sustain.releases.models import Release
from tests.releases.base import ReleaseTestCase


class PageTests(ReleaseTestCase):
    def client_for(self, user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def htmx(self, client: Client, path: str, data: dict):
        return client.post(path, data, headers={"HX-Request": "true"})

    def test_list_groups_by_product_newest_version_first(self) -> None:
        self.released("2.4.2")
        self.make_release("2.4.3")
        self.make_release("2.5.0", "minor")
        response = self.client_for(self.alice).get("/releases/")
        self.assertEqual(response.status_code, 200)
        body = response.content.decode()
        self.assertLess(body.index(">2.5.0<"), body.index(">2.4.3<"))
        self.assertLess(body.index(">2.4.3<"), body.index(">2.4.2<"))
        filtered = self.client_for(self.alice).get("/releases/?status=released")
        self.assertNotContains(filtered, ">2.4.3<")
        self.assertContains(filtered, ">2.4.2<")
        bad = self.client_for(self.alice).get("/releases/?status=nope")
        self.assertEqual(bad.status_code, 422)

    def test_customers_are_refused(self) -> None:
        release = self.released("2.4.2")
        client = self.client_for(self.carol)
        self.assertEqual(client.get("/releases/").status_code, 403)
        self.assertEqual(client.get(f"/releases/{release.pk}").status_code, 403)

    def test_new_release_form(self) -> None:
        client = self.client_for(self.alice)
        self.assertEqual(client.get("/releases/new").status_code, 200)
        response = client.post(
            "/releases/new", {"product": self.product.pk, "version": "2.4.0", "kind": "patch"}
        )
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, "patch number above 0", status_code=422)
        response = client.post(
            "/releases/new", {"product": self.product.pk, "version": "2.4.2", "kind": "patch"}
        )
        release = Release.objects.get()
        self.assertRedirects(response, f"/releases/{release.pk}")

    def test_release_page_sections(self) -> None:
        release = self.make_release("2.4.2", summary="Fixes for totals")
        actions.add_bug(self.alice, release, self.bug("Totals off by one cent"))
        response = self.client_for(self.mia).get(f"/releases/{release.pk}")
        for text in (
            "Quality gate",
            "Release notes",
            "Test runs",
            "Contents",
            "Timeline",
            "Totals off by one cent",
            "Start testing",
            "Deployments",
        ):
            self.assertContains(response, text)
        internal = self.client_for(self.mia).get(f"/releases/{release.pk}?notes=internal")
        self.assertContains(internal, "(internal)")

    def test_workflow_in_place(self) -> None:
        release = self.make_release("2.4.2")
        client = self.client_for(self.root)
        response = self.htmx(client, f"/releases/{release.pk}/transition", {"status": "testing"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'id="release"')
        response = self.htmx(client, f"/releases/{release.pk}/approve", {"reason": "  "})
        # An admin may override: asked for the reason beside the field, not told the gate fails.
        self.assertContains(response, 'id="override-reason-error"', status_code=422)
        self.assertContains(response, "Say why you approve past", status_code=422)
        self.assertContains(response, 'aria-invalid="true"', status_code=422)
        manager = self.client_for(self.mia)
        response = self.htmx(manager, f"/releases/{release.pk}/approve", {})
        self.assertContains(response, "quality gate fails", status_code=422)
        response = self.htmx(client, f"/releases/{release.pk}/approve", {"reason": "hotfix"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "hotfix")
        release.refresh_from_db()
        self.assertEqual(release.status, "approved")
        response = client.post(f"/releases/{release.pk}/transition", {"status": "released"})
        self.assertRedirects(response, f"/releases/{release.pk}")
        release.refresh_from_db()
        self.assertEqual(release.status, "released")
        page = client.get(f"/releases/{release.pk}")
        self.assertContains(page, "approved past the failing quality gate: “hotfix”")
        self.assertContains(page, "Withdraw")  # root may pull it; an agent is not offered to
        self.assertNotContains(
            self.client_for(self.alice).get(f"/releases/{release.pk}"), "Withdraw"
        )

    def test_contents_and_notes_in_place(self) -> None:
        release = self.make_release("2.4.2")
        bug = self.bug("Export hangs")
        client = self.client_for(self.alice)
        url = f"/releases/{release.pk}"
        self.assertEqual(self.htmx(client, f"{url}/bugs/add", {"bug": bug.key}).status_code, 200)
        self.assertEqual(self.htmx(client, f"{url}/bugs/add", {"bug": "BUG-0"}).status_code, 422)
        self.htmx(
            client, f"{url}/changes", {"kind": "feature", "title": "CSV import", "is_public": "on"}
        )
        change = release.changes.get()
        release.refresh_from_db()
        self.assertIn("CSV import", release.customer_notes)
        self.htmx(client, f"{url}/notes", {"customer_notes": "# Hand written"})
        release.refresh_from_db()
        self.assertTrue(release.notes_edited)
        self.assertEqual(release.customer_notes, "# Hand written")
        self.htmx(client, f"{url}/changes/{change.pk}/delete", {})
        self.htmx(client, f"{url}/bugs/remove", {"bug": bug.key})
        self.htmx(client, f"{url}/notes/regenerate", {})
        release.refresh_from_db()
        self.assertFalse(release.notes_edited)
        self.assertNotIn("CSV import", release.customer_notes)
        self.htmx(client, f"{url}/edit", {"summary": "Now with a summary"})
        release.refresh_from_db()
        self.assertEqual(release.summary, "Now with a summary")
        verbs = {e.verb for e in for_target(release)}
        self.assertTrue(
            {"bug_added", "change_added", "notes_edited", "notes_regenerated", "updated"} <= verbs
        )
