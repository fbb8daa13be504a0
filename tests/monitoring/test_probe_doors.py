"""The doors of probes: the REST API (validation naming the field, unknown fields refused,
tenancy) and the pages (list, detail with the last results, the managers' form and buttons)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.test import Client, override_settings

from sustain.monitoring import actions, probe_runs
from sustain.monitoring.models import Probe, ProbeResult
from tests.base import SustainTestCase
from tests.monitoring.servers import Site

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
URL = "/api/v1/monitoring/probes"


def body(**fields):
    return {"organization": "acme", "name": "shop", "url": "https://shop.example.test/", **fields}


class ProbeApiTests(SustainTestCase):
    def setUp(self):
        self.mine = actions.create_probe(
            self.mia, self.acme, name="acme shop", url="https://shop.example.test/health"
        )
        self.theirs = actions.create_probe(
            self.mia, self.globex, name="globex api", url="https://api.example.test/"
        )

    def test_a_manager_makes_changes_pauses_runs_and_deletes_a_probe(self):
        api = self.api(self.mia)
        made = api.post(URL, body(config_item=self.acme_prod.pk, keyword="Welcome"))
        self.assertEqual(made.status_code, 201, made.content)
        probe = made.json()
        self.assertEqual(
            (probe["state"], probe["kind"], probe["keyword"]), ("new", "http", "Welcome")
        )
        path = f"{URL}/{probe['id']}"
        changed = api.patch(path, {"interval_seconds": 30, "timeout_seconds": 5})
        self.assertEqual(changed.json()["interval_seconds"], 30)
        self.assertEqual(api.post(f"{path}/pause").json()["state"], "paused")
        self.assertEqual(api.post(f"{path}/run").status_code, 409)
        self.assertEqual(api.post(f"{path}/resume").json()["state"], "new")
        self.assertEqual(api.post(f"{path}/run").status_code, 200)
        self.assertEqual(api.delete(path).status_code, 204)
        self.assertFalse(Probe.objects.filter(pk=probe["id"]).exists())

    def test_bad_settings_are_refused_naming_the_field(self):
        api = self.api(self.mia)
        for fields, field in (
            ({"interval_seconds": 10}, "interval_seconds"),
            ({"interval_seconds": 30, "timeout_seconds": 30}, "timeout_seconds"),
            ({"url": "http://127.0.0.1:8000/"}, "url"),
            ({"url": "gopher://shop.example.test/"}, "url"),
            ({"expected_status": "2xx"}, "expected_status"),
            ({"json_path": "$..[", "json_expected": "1"}, "json_path"),
            ({"headers": {"Bad Name": "x"}}, "headers"),
            ({"kind": "udp"}, "kind"),
            ({"host": "db.example.test", "port": 5432}, "host"),
        ):
            with self.subTest(fields=fields):
                answer = api.post(URL, body(**fields))
                self.assertEqual(answer.status_code, 422, answer.content)
                self.assertIn(field, str(answer.json()))
        refused = api.post(URL, body(follow_redirects=True))
        self.assertEqual(refused.status_code, 422)
        self.assertIn("follow_redirects", str(refused.json()))
        patched = api.patch(f"{URL}/{self.mine.pk}", {"interval_seconds": 30, "colour": "red"})
        self.assertEqual(patched.status_code, 422)
        self.assertEqual(Probe.objects.count(), 2)

    def test_another_customers_item_is_refused(self):
        answer = self.api(self.mia).post(URL, body(config_item=self.globex_prod.pk))
        self.assertEqual(answer.status_code, 422, answer.content)
        self.assertEqual(answer.json()["errors"][0]["field"], "config_item")
        moved = self.api(self.mia).patch(
            f"{URL}/{self.mine.pk}", {"config_item": self.globex_prod.pk}
        )
        self.assertEqual(moved.status_code, 422)
        self.mine.refresh_from_db()
        self.assertIsNone(self.mine.config_item)

    def test_customers_read_only_their_own_and_change_nothing(self):
        carol = self.api(self.carol)
        names = [p["name"] for p in carol.get(URL).json()["results"]]
        self.assertEqual(names, ["acme shop"])
        self.assertEqual(carol.get(f"{URL}/{self.theirs.pk}").status_code, 404)
        self.assertEqual(carol.get(f"{URL}/{self.theirs.pk}/results").status_code, 404)
        self.assertEqual(carol.post(f"{URL}/{self.mine.pk}/pause").status_code, 403)
        self.assertEqual(carol.post(URL, body()).status_code, 403)
        self.assertEqual(self.api(self.alice).post(URL, body()).status_code, 403)  # agents read

    def test_results_newest_first(self):
        for minutes, ok in ((0, True), (1, False)):
            ProbeResult.objects.create(
                probe=self.mine,
                at=T0 + timedelta(minutes=minutes),
                ok=ok,
                error="" if ok else "timed out",
            )
        results = self.api(self.carol).get(f"{URL}/{self.mine.pk}/results").json()["results"]
        self.assertEqual(
            [(r["ok"], r["error"]) for r in results], [(False, "timed out"), (True, "")]
        )


@override_settings(OUTBOUND_ALLOW_NETWORKS=("127.0.0.0/8",))
class ProbePageTests(SustainTestCase):
    def setUp(self):
        self.site = Site().start()
        self.addCleanup(self.site.stop)
        self.probe = actions.create_probe(
            self.mia, self.acme, name="acme shop", url=self.site.url()
        )
        probe_runs.run_due()
        self.staff = Client()
        self.staff.force_login(self.alice)
        self.manager = Client()
        self.manager.force_login(self.mia)

    def test_the_list_shows_status_last_result_and_latency(self):
        page = self.staff.get("/monitoring/probes").content.decode()
        self.assertIn("acme shop", page)
        self.assertIn("ok (200)", page)
        self.assertIn(" ms</td>", page)
        self.assertIn('<svg class="spark"', page)  # the last runs' latency
        self.assertIn("<small>24h</small> 100 %", page)  # never down since it was made
        self.assertIn(">Up<", page)
        self.assertIn("/monitoring/probes", self.staff.get("/monitoring/").content.decode())

    def test_the_probe_page_shows_its_last_results(self):
        self.site.stop()
        actions.run_now(self.mia, self.probe)
        probe_runs.run_due()
        page = self.staff.get(f"/monitoring/probes/{self.probe.pk}").content.decode()
        self.assertIn("connection refused", page)
        self.assertIn("2, 1 failed", page)
        self.assertNotIn("Pause</button>", page)  # buttons are for managers
        self.assertIn(
            "Pause</button>",
            self.manager.get(f"/monitoring/probes/{self.probe.pk}").content.decode(),
        )

    def test_a_manager_makes_and_changes_a_probe_with_the_form(self):
        self.assertEqual(self.staff.get("/monitoring/probes/new").status_code, 403)
        form = {
            "organization": self.acme.pk,
            "name": "acme db",
            "kind": "tcp",
            "host": "127.0.0.1",
            "port": self.site.port,
            "method": "GET",
            "expected_status": "200-299",
            "tls_expiry_days": 14,
            "timeout_seconds": 5,
            "interval_seconds": 30,
            "fail_after": 3,
            "recover_after": 2,
        }
        bad = self.manager.post("/monitoring/probes/new", {**form, "timeout_seconds": 40})
        self.assertEqual(bad.status_code, 422)
        self.assertIn("shorter than interval_seconds", bad.content.decode())
        made = self.manager.post("/monitoring/probes/new", form)
        self.assertEqual(made.status_code, 302)
        probe = Probe.objects.get(name="acme db")
        self.assertEqual((probe.kind, probe.port, probe.fail_after), ("tcp", self.site.port, 3))
        edit = f"/monitoring/probes/{self.probe.pk}/edit"
        self.assertIn("acme shop", self.manager.get(edit).content.decode())
        changed = self.manager.post(
            edit,
            {
                **form,
                "name": "acme shop",
                "host": "",
                "port": "",
                "url": self.site.url("/"),
                "headers": "X-Token: abc\nAccept: text/plain",
            },
        )
        self.assertEqual(changed.status_code, 302, changed.content.decode()[:2000])
        self.probe.refresh_from_db()
        self.assertEqual(self.probe.headers, {"X-Token": "abc", "Accept": "text/plain"})
        self.assertEqual(self.probe.interval_seconds, 30)

    def test_the_buttons_pause_resume_run_and_delete(self):
        base = f"/monitoring/probes/{self.probe.pk}"
        self.assertEqual(self.staff.post(f"{base}/pause").status_code, 403)
        self.manager.post(f"{base}/pause")
        self.probe.refresh_from_db()
        self.assertEqual(self.probe.state, Probe.State.PAUSED)
        self.manager.post(f"{base}/resume")
        self.manager.post(f"{base}/run")
        self.probe.refresh_from_db()
        self.assertEqual(self.probe.state, Probe.State.NEW)
        self.assertEqual(self.manager.post(f"{base}/delete").status_code, 302)
        self.assertFalse(Probe.objects.filter(pk=self.probe.pk).exists())
