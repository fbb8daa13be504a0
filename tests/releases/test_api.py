"""The releases API: staff manage, CI systems report test runs, customers read released notes."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sustain.cmdb import actions as cmdb
from sustain.releases import actions
from sustain.releases.models import TestRun
from tests.releases.base import ReleaseTestCase


class StaffApiTests(ReleaseTestCase):
    def test_create_and_read(self) -> None:
        api = self.api(self.alice)
        response = api.post(
            "/api/v1/releases",
            {"product": "ledger", "version": "2.4.2", "kind": "patch", "summary": "Fixes"},
        )
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(
            (body["version"], body["status"], body["kind"]), ("2.4.2", "planned", "patch")
        )
        self.assertEqual(body["url"], f"/releases/{body['id']}")
        got = api.get(f"/api/v1/releases/{body['id']}").json()
        self.assertEqual(got["summary"], "Fixes")
        self.assertIn("gate_override_reason", got)

    def test_kind_refusal_names_the_field(self) -> None:
        self.released("2.4.2")
        self.released("2.4.4")
        response = self.api(self.alice).post(
            "/api/v1/releases", {"product": "ledger", "version": "2.4.3", "kind": "patch"}
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "version")
        self.assertIn("latest version is 2.4.4", response.json()["detail"])
        response = self.api(self.alice).post(
            "/api/v1/releases", {"product": "nope", "version": "2.4.5", "kind": "patch"}
        )
        self.assertEqual(response.json()["errors"][0]["field"], "product")

    def test_list_filters_and_pages(self) -> None:
        self.released("2.4.2")
        self.make_release("2.4.3")
        self.make_release("2.5.0", "minor")
        api = self.api(self.alice)
        page = api.get("/api/v1/releases", limit=2).json()
        self.assertEqual(len(page["results"]), 2)
        self.assertIsNotNone(page["next"])
        rest = api.get(page["next"]).json()
        self.assertEqual(len(rest["results"]), 1)
        self.assertEqual(
            [
                r["version"]
                for r in api.get("/api/v1/releases", status="released").json()["results"]
            ],
            ["2.4.2"],
        )
        self.assertEqual(
            [r["version"] for r in api.get("/api/v1/releases", kind="minor").json()["results"]],
            ["2.5.0"],
        )
        bad = api.get("/api/v1/releases", status="gone")
        self.assertEqual(bad.status_code, 422)
        self.assertEqual(bad.json()["errors"][0]["field"], "status")

    def test_patch_transition_approve_and_gate(self) -> None:
        release = self.make_release("2.4.2")
        api = self.api(self.mia)
        url = f"/api/v1/releases/{release.pk}"
        self.assertEqual(api.patch(url, {"known_issues": "Slow on Sundays"}).status_code, 200)
        self.assertEqual(api.patch(url, {"summary": None}).status_code, 422)
        response = api.post(f"{url}/transition", {"status": "released"})
        self.assertEqual(response.status_code, 409)
        self.assertIn("from planned to released", response.json()["detail"])
        api.post(f"{url}/transition", {"status": "testing"})
        gate = api.get(f"{url}/gate").json()
        self.assertFalse(gate["ok"])
        self.assertEqual(
            [(c["name"], c["ok"]) for c in gate["checks"]],
            [("bugs_verified", True), ("tests_passed", False), ("no_open_blockers", True)],
        )
        refused = api.post(f"{url}/approve", {"override_reason": "trust me"})
        self.assertEqual(refused.status_code, 403)
        blocked = api.post(f"{url}/approve", {})
        self.assertEqual(blocked.status_code, 409)
        self.assertEqual(blocked.json()["errors"][0]["field"], "gate.tests_passed")
        approved = self.api(self.root).post(f"{url}/approve", {"override_reason": "tested by hand"})
        self.assertEqual(approved.status_code, 200)
        self.assertEqual(approved.json()["gate_override_reason"], "tested by hand")
        events = api.get(f"{url}/events").json()["results"]
        self.assertIn("gate_overridden", [e["verb"] for e in events])

    def test_bugs_changes_and_refresh(self) -> None:
        release = self.make_release("2.4.2")
        bug = self.bug("Rounding")
        api = self.api(self.alice)
        url = f"/api/v1/releases/{release.pk}"
        added = api.post(f"{url}/bugs", {"bug": bug.key.lower()})
        self.assertEqual(added.status_code, 201, added.content)
        self.assertEqual(added.json()["source"], "manual")
        self.assertEqual(api.post(f"{url}/bugs", {"bug": "BUG-404404"}).status_code, 422)
        self.assertEqual([b["bug"] for b in api.get(f"{url}/bugs").json()["results"]], [bug.key])
        self.assertEqual(api.delete(f"{url}/bugs/{bug.key}").status_code, 204)
        change = api.post(f"{url}/changes", {"kind": "security", "title": "Patched TLS"})
        self.assertEqual(change.status_code, 201)
        change_id = change.json()["id"]
        edited = api._send(
            "put", f"{url}/changes/{change_id}", {"kind": "security", "title": "TLS 1.3 only"}
        )
        self.assertEqual(edited.json()["title"], "TLS 1.3 only")
        self.assertEqual(len(api.get(f"{url}/changes").json()), 1)
        self.assertEqual(api.delete(f"{url}/changes/{change_id}").status_code, 204)
        self.assertEqual(api.delete(f"{url}/changes/{change_id}").status_code, 404)
        self.assertEqual(api.post(f"{url}/refresh").json(), {"added": [], "removed": []})

    def test_notes_get_edit_regenerate(self) -> None:
        release = self.make_release("2.4.2", summary="Totals <script>alert(1)</script> fixed")
        api = self.api(self.alice)
        url = f"/api/v1/releases/{release.pk}/notes"
        notes = api.get(url).json()
        self.assertIn("# Ledger 2.4.2", notes["customer_notes"])
        self.assertIn("<h1>Ledger 2.4.2</h1>", notes["customer_html"])
        self.assertNotIn("<script>", notes["customer_html"])
        self.assertFalse(notes["notes_edited"])
        edited = api._send("put", url, {"customer_notes": "Hand made"}).json()
        self.assertTrue(edited["notes_edited"])
        self.assertEqual(edited["customer_notes"], "Hand made")
        self.assertIn("(internal)", edited["internal_notes"])  # untouched
        regenerated = api.post(url).json()
        self.assertFalse(regenerated["notes_edited"])
        self.assertIn("# Ledger 2.4.2", regenerated["customer_notes"])
        self.assertEqual(api._send("put", url, {}).status_code, 422)
        hostile = "<script>alert(1)</script> [click](javascript:alert(1)) <img src=x onerror=y>"
        html = api._send("put", url, {"customer_notes": hostile}).json()["customer_html"]
        for bad in ("<script", "javascript:", "onerror"):
            self.assertNotIn(bad, html)


class TestRunApiTests(ReleaseTestCase):
    def test_ci_reports_with_an_agent_token(self) -> None:
        release = self.make_release("2.4.2")
        ci = self.api(self.bob)
        url = f"/api/v1/releases/{release.pk}/test-runs"
        response = ci.post(
            url,
            {
                "name": "e2e",
                "result": "passed",
                "url": "https://ci.example.test/runs/7",
                "passed": 120,
                "failed": 0,
                "skipped": 3,
                "started_at": "2026-11-27T08:00:00+01:00",
                "finished_at": "2026-11-27T07:20:00Z",
            },
        )
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual((body["result"], body["reported_by"]), ("passed", self.bob.email))
        self.assertEqual(ci.get(url).json()["results"][0]["name"], "e2e")
        release.refresh_from_db()
        self.assertIn("e2e: **passed**", release.internal_notes)

    def test_bad_runs_name_the_field(self) -> None:
        release = self.make_release("2.4.2")
        url = f"/api/v1/releases/{release.pk}/test-runs"
        ci = self.api(self.bob)
        for body, field in (
            ({"result": "green"}, "result"),
            ({"result": "passed", "passed": -1}, "passed"),
            ({"result": "passed", "url": "javascript:alert(1)"}, "url"),
            (
                {
                    "result": "passed",
                    "started_at": "2026-11-27T08:00:00Z",
                    "finished_at": "2026-11-27T07:00:00Z",
                },
                "finished_at",
            ),
        ):
            response = ci.post(url, body)
            self.assertEqual(response.status_code, 422, body)
            self.assertEqual(response.json()["errors"][0]["field"], field)
        self.assertFalse(TestRun.objects.exists())

    def test_customers_and_read_tokens_cannot_report(self) -> None:
        release = self.make_release("2.4.2")
        url = f"/api/v1/releases/{release.pk}/test-runs"
        self.assertEqual(self.api(self.carol).post(url, {"result": "passed"}).status_code, 404)
        read_only = self.token_for(self.bob, scope="read")
        from tests.base import ApiClient

        self.assertEqual(ApiClient(read_only).post(url, {"result": "passed"}).status_code, 403)
        self.assertFalse(TestRun.objects.exists())


class CustomerApiTests(ReleaseTestCase):
    """Carol's Acme runs Ledger (acme-prod); Dave's Globex runs nothing of it."""

    def setUp(self) -> None:
        self.shipped = self.released("2.4.2", summary="Faster totals")
        actions.add_change  # noqa: B018 (the module is what is under test)
        self.planned = self.make_release("2.4.3")
        other = self.other_product()
        cmdb.add_version(self.root, other, name="1.0.0")
        self.foreign = self.released("1.1.0", "minor", product=other)

    def test_only_released_releases_of_products_they_run(self) -> None:
        api = self.api(self.carol)
        rows = api.get("/api/v1/releases").json()["results"]
        self.assertEqual([r["version"] for r in rows], ["2.4.2"])
        self.assertEqual(api.get(f"/api/v1/releases/{self.planned.pk}").status_code, 404)
        self.assertEqual(api.get(f"/api/v1/releases/{self.foreign.pk}").status_code, 404)
        self.assertEqual(self.api(self.dave).get("/api/v1/releases").json()["results"], [])

    def test_customers_get_the_small_schema_without_internal_notes(self) -> None:
        body = self.api(self.carol).get(f"/api/v1/releases/{self.shipped.pk}").json()
        self.assertEqual(
            set(body),
            {
                "id",
                "product",
                "version",
                "kind",
                "released_at",
                "summary",
                "known_issues",
                "notes",
                "notes_html",
            },
        )
        self.assertIn("Faster totals", body["notes"])
        self.assertNotIn("internal", str(body).lower())

    def test_customers_neither_write_nor_read_staff_parts(self) -> None:
        api = self.api(self.carol)
        url = f"/api/v1/releases/{self.shipped.pk}"
        for path in ("notes", "gate", "bugs", "changes", "test-runs", "events"):
            self.assertEqual(api.get(f"{url}/{path}").status_code, 403, path)
        self.assertEqual(api.patch(url, {"summary": "x"}).status_code, 403)
        self.assertEqual(
            api.post(f"{url}/transition", {"status": "withdrawn", "reason": "x"}).status_code, 403
        )
        created = api.post(
            "/api/v1/releases", {"product": "ledger", "version": "2.4.9", "kind": "patch"}
        )
        self.assertEqual(created.status_code, 403)


class QueryCountTests(ReleaseTestCase):
    def test_list_costs_the_same_for_more_releases(self) -> None:
        api = self.api(self.alice)
        self.released("2.4.2")
        self.make_release("2.4.3")
        api.get("/api/v1/releases")  # the token's first use writes last_used_at
        with CaptureQueriesContext(connection) as few:
            self.assertEqual(len(api.get("/api/v1/releases").json()["results"]), 2)
        for version in ("2.5.0", "2.6.0", "2.7.0"):
            self.make_release(version, "minor")
        with CaptureQueriesContext(connection) as many:
            self.assertEqual(len(api.get("/api/v1/releases").json()["results"]), 5)
        self.assertEqual(len(few), len(many))
