"""The deployments API and the install-base endpoints."""

from __future__ import annotations

from sustain.releases.models import Deployment
from tests.releases.deployments.base import DeploymentTestCase


class DeploymentApiTests(DeploymentTestCase):
    def setUp(self):
        self.release_242 = self.release("2.4.2")
        self.globex_ledger = self.environment(self.globex, "globex-ledger", "2.4.1")

    def schedule(self, user=None, **body):
        body.setdefault("release", self.release_242.pk)
        body.setdefault("environment", self.acme_prod.pk)
        return self.api(user or self.alice).post("/api/v1/deployments", body)

    def test_schedule_move_and_read(self):
        created = self.schedule(note="after hours", scheduled_for="2026-12-01T22:00:00+01:00")
        self.assertEqual(created.status_code, 201, created.content)
        data = created.json()
        self.assertEqual(data["status"], "scheduled")
        self.assertEqual(data["release"], "2.4.2")
        self.assertEqual(data["environment"]["name"], "acme-prod")
        self.assertEqual(data["scheduled_for"][:19], "2026-12-01T21:00:00")
        api = self.api(self.alice)
        path = f"/api/v1/deployments/{data['id']}/transition"
        self.assertEqual(api.post(path, {"status": "in_progress"}).json()["status"], "in_progress")
        done = api.post(path, {"status": "succeeded"})
        self.assertEqual(done.json()["status"], "succeeded")
        self.acme_prod.refresh_from_db()
        self.assertEqual(self.acme_prod.version.name, "2.4.2")
        again = api.post(path, {"status": "in_progress"})
        self.assertEqual(again.status_code, 409)
        self.assertEqual(again.json()["errors"][0]["field"], "status")
        self.assertIn("from succeeded to in_progress", again.json()["detail"])
        no_reason = api.post(path, {"status": "rolled_back"})
        self.assertEqual(no_reason.status_code, 422)
        self.assertEqual(no_reason.json()["errors"][0]["field"], "reason")

    def test_bad_input_names_the_field(self):
        for body, field in (
            ({"release": 999999}, "release"),
            ({"environment": 999999}, "environment"),
            ({"environment": self.globex_prod.pk}, "environment"),  # runs no Ledger
        ):
            response = self.schedule(**body)
            self.assertEqual(response.status_code, 422, response.content)
            self.assertEqual(response.json()["errors"][0]["field"], field)
        bad = self.api(self.alice).post(
            f"/api/v1/deployments/{self.schedule().json()['id']}/transition", {"status": "done"}
        )
        self.assertEqual(bad.status_code, 422)

    def test_one_in_progress_per_environment_is_a_409(self):
        api = self.api(self.alice)
        first = self.schedule().json()["id"]
        second = self.schedule(release=self.release("2.4.3").pk).json()["id"]
        api.post(f"/api/v1/deployments/{first}/transition", {"status": "in_progress"})
        busy = api.post(f"/api/v1/deployments/{second}/transition", {"status": "in_progress"})
        self.assertEqual(busy.status_code, 409)
        self.assertIn("already has deployment", busy.json()["detail"])

    def test_customers_read_their_own_without_internal_fields_and_write_nothing(self):
        mine = self.schedule(note="internal plan").json()["id"]
        theirs = self.schedule(environment=self.globex_ledger.pk).json()["id"]
        listed = self.api(self.carol).get("/api/v1/deployments")
        self.assertEqual([d["id"] for d in listed.json()["results"]], [mine])
        row = listed.json()["results"][0]
        self.assertNotIn("note", row)
        self.assertNotIn("created_by", row)
        self.assertNotIn("internal plan", listed.content.decode())
        self.assertEqual(self.api(self.carol).get(f"/api/v1/deployments/{theirs}").status_code, 404)
        self.assertEqual(self.schedule(self.carol).status_code, 403)
        moved = self.api(self.carol).post(
            f"/api/v1/deployments/{mine}/transition", {"status": "in_progress"}
        )
        self.assertEqual(moved.status_code, 403)
        self.assertEqual(Deployment.objects.get(pk=mine).status, "scheduled")

    def test_list_filters_and_pages(self):
        ids = [self.schedule().json()["id"]]
        ids.append(self.schedule(environment=self.globex_ledger.pk).json()["id"])
        api = self.api(self.alice)
        by_org = api.get("/api/v1/deployments", organization="globex").json()["results"]
        self.assertEqual([d["id"] for d in by_org], [ids[1]])
        by_env = api.get("/api/v1/deployments", environment=self.acme_prod.pk).json()["results"]
        self.assertEqual([d["id"] for d in by_env], [ids[0]])
        by_release = api.get("/api/v1/deployments", release=self.release_242.pk).json()
        self.assertEqual(len(by_release["results"]), 2)
        self.assertEqual(api.get("/api/v1/deployments", status="succeeded").json()["results"], [])
        bad = api.get("/api/v1/deployments", status="nope")
        self.assertEqual(bad.status_code, 422)
        first = api.get("/api/v1/deployments", limit=1).json()
        self.assertEqual([d["id"] for d in first["results"]], [ids[1]])
        self.assertIsNotNone(first["next"])


class InstallBaseApiTests(DeploymentTestCase):
    def setUp(self):
        self.bug_totals = self.bug("Totals are wrong", affected=("2.4.1",))
        self.globex_ledger = self.environment(self.globex, "globex-ledger", "2.4.1")
        self.link(self.bug_totals, self.open_ticket(self.carol))

    def test_affected_environments_for_staff_and_customers(self):
        staff = self.api(self.alice).get(
            f"/api/v1/bugs/{self.bug_totals.key}/affected-environments"
        )
        self.assertEqual(staff.status_code, 200)
        names = sorted(e["name"] for e in staff.json()["results"])
        self.assertEqual(names, ["acme-prod", "globex-ledger"])
        carol = self.api(self.carol).get(
            f"/api/v1/bugs/{self.bug_totals.key.lower()}/affected-environments"
        )
        self.assertEqual([e["name"] for e in carol.json()["results"]], ["acme-prod"])
        # Globex did not report it: the bug does not exist for Dave.
        dave = self.api(self.dave).get(f"/api/v1/bugs/{self.bug_totals.key}/affected-environments")
        self.assertEqual(dave.status_code, 404)
        self.assertEqual(
            self.api(self.alice).get("/api/v1/bugs/BUG-0/affected-environments").status_code, 404
        )

    def test_updates_of_an_environment(self):
        self.release("2.4.2", fixes=(self.bug_totals,))
        self.release("2.5.0")
        response = self.api(self.carol).get(f"/api/v1/environments/{self.acme_prod.pk}/updates")
        self.assertEqual(response.status_code, 200)
        data = response.json()
        self.assertEqual(data["behind"], 2)
        self.assertEqual([u["version"] for u in data["updates"]], ["2.4.2", "2.5.0"])
        self.assertEqual(data["updates"][0]["fixes_reported"][0]["key"], self.bug_totals.key)
        self.assertIn("Fixes and improvements", data["updates"][0]["customer_notes"])
        globex = self.api(self.dave).get(f"/api/v1/environments/{self.globex_ledger.pk}/updates")
        self.assertEqual(globex.json()["updates"][0]["fixes_reported"], [])
        self.assertEqual(
            self.api(self.dave)
            .get(f"/api/v1/environments/{self.acme_prod.pk}/updates")
            .status_code,
            404,
        )

    def test_shipped(self):
        release = self.release("2.4.2", fixes=(self.bug_totals,))
        path = f"/api/v1/bugs/{self.bug_totals.key}/shipped"
        self.assertEqual(self.api(self.alice).get(path).json(), [])
        self.deploy(release, self.acme_prod)
        self.deploy(release, self.globex_ledger)
        staff = self.api(self.alice).get(path).json()
        self.assertEqual(
            sorted(s["environment"]["name"] for s in staff), ["acme-prod", "globex-ledger"]
        )
        carol = self.api(self.carol).get(path).json()
        self.assertEqual([s["environment"]["name"] for s in carol], ["acme-prod"])
