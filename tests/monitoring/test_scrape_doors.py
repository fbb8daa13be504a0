"""The doors of scrape jobs: the REST API (validation naming the field, unknown fields
refused, tenancy, in the OpenAPI) and the pages (list, detail with its last scrapes and its
series, the managers' form and buttons), and the admin's list."""

from __future__ import annotations

from django.test import Client, override_settings

from sustain.monitoring import actions, scrape_runs
from sustain.monitoring.models import ScrapeJob
from tests.base import SustainTestCase
from tests.monitoring.servers import Site

URL = "/api/v1/monitoring/scrape-jobs"


def body(**fields):
    return {
        "organization": "acme",
        "name": "shop",
        "url": "https://shop.example.test/metrics",
        **fields,
    }


class ScrapeJobApiTests(SustainTestCase):
    def setUp(self):
        self.mine = actions.create_scrape_job(
            self.mia, self.acme, name="acme shop", url="https://shop.example.test/metrics"
        )
        self.theirs = actions.create_scrape_job(
            self.mia, self.globex, name="globex api", url="https://api.example.test/metrics"
        )

    def test_a_manager_makes_changes_pauses_scrapes_and_deletes_a_job(self):
        api = self.api(self.mia)
        made = api.post(URL, body(config_item=self.acme_prod.pk, labels={"env": "prod"}))
        self.assertEqual(made.status_code, 201, made.content)
        job = made.json()
        self.assertEqual(
            (job["status"], job["labels"], job["paused"]), ("new", {"env": "prod"}, False)
        )
        self.assertEqual(job["config_item"], self.acme_prod.pk)
        path = f"{URL}/{job['id']}"
        changed = api.patch(path, {"interval_seconds": 15, "timeout_seconds": 5})
        self.assertEqual(changed.status_code, 200, changed.content)
        self.assertEqual(changed.json()["interval_seconds"], 15)
        self.assertTrue(api.post(f"{path}/pause").json()["paused"])
        self.assertEqual(api.post(f"{path}/scrape").status_code, 409)
        self.assertFalse(api.post(f"{path}/resume").json()["paused"])
        self.assertEqual(api.post(f"{path}/scrape").status_code, 200)
        self.assertEqual(api.get(path).json()["name"], "shop")
        self.assertEqual(api.delete(path).status_code, 204)
        self.assertFalse(ScrapeJob.objects.filter(pk=job["id"]).exists())

    def test_bad_settings_are_refused_naming_the_field(self):
        api = self.api(self.mia)
        for fields, field in (
            ({"interval_seconds": 5}, "interval_seconds"),
            ({"interval_seconds": 7200}, "interval_seconds"),
            ({"interval_seconds": 20, "timeout_seconds": 20}, "timeout_seconds"),
            ({"url": "http://127.0.0.1:9100/metrics"}, "url"),
            ({"url": "ftp://shop.example.test/metrics"}, "url"),
            ({"url": ""}, "url"),
            ({"labels": {"job": "x"}}, "labels"),
            ({"labels": {"bad-name": "x"}}, "labels"),
            ({"labels": {"__meta": "x"}}, "labels"),
            ({"labels": {"env": "x" * 501}}, "labels.env"),
            ({"name": ""}, "name"),
        ):
            with self.subTest(fields=fields):
                answer = api.post(URL, body(**fields))
                self.assertEqual(answer.status_code, 422, answer.content)
                self.assertIn(field, str(answer.json()))
        refused = api.post(URL, body(honor_labels=True))
        self.assertEqual(refused.status_code, 422)
        self.assertIn("honor_labels", str(refused.json()))
        patched = api.patch(f"{URL}/{self.mine.pk}", {"interval_seconds": 30, "colour": "red"})
        self.assertEqual(patched.status_code, 422)
        self.assertIn("colour", str(patched.json()))
        self.assertEqual(api.post(URL, body(name="acme shop")).status_code, 409)
        self.assertEqual(ScrapeJob.objects.count(), 2)

    def test_another_customers_item_is_refused(self):
        answer = self.api(self.mia).post(URL, body(config_item=self.globex_prod.pk))
        self.assertEqual(answer.status_code, 422, answer.content)
        self.assertEqual(answer.json()["errors"][0]["field"], "config_item")

    def test_customers_read_only_their_own_and_change_nothing(self):
        carol = self.api(self.carol)
        names = [j["name"] for j in carol.get(URL).json()["results"]]
        self.assertEqual(names, ["acme shop"])
        self.assertEqual(carol.get(URL, organization="globex").json()["results"], [])
        self.assertEqual(carol.get(f"{URL}/{self.theirs.pk}").status_code, 404)
        self.assertEqual(carol.post(f"{URL}/{self.theirs.pk}/scrape").status_code, 404)
        self.assertEqual(carol.post(f"{URL}/{self.mine.pk}/pause").status_code, 403)
        self.assertEqual(carol.delete(f"{URL}/{self.mine.pk}").status_code, 403)
        self.assertEqual(carol.post(URL, body()).status_code, 403)
        self.assertEqual(self.api(self.alice).post(URL, body()).status_code, 403)  # agents read
        self.assertEqual(
            self.api(self.mia).post(URL, body(organization="globex", name="x")).status_code, 201
        )

    def test_filters_and_the_openapi_schema(self):
        actions.pause_scrape_job(self.mia, self.mine)
        api = self.api(self.mia)
        self.assertEqual(
            [j["name"] for j in api.get(URL, paused="true").json()["results"]], ["acme shop"]
        )
        self.assertEqual(
            [j["name"] for j in api.get(URL, paused="false").json()["results"]], ["globex api"]
        )
        self.assertEqual(api.get(URL, status="failed").json()["results"], [])
        paths = Client().get("/api/openapi.json").json()["paths"]
        self.assertIn(URL, paths)
        self.assertIn(f"{URL}/{{scrape_job_id}}/scrape", paths)


@override_settings(OUTBOUND_ALLOW_NETWORKS=("127.0.0.0/8",))
class ScrapeJobPageTests(SustainTestCase):
    def setUp(self):
        self.site = Site().start()
        self.addCleanup(self.site.stop)
        self.site.body = b'# TYPE orders_total counter\norders_total{shop="north"} 12\n'
        self.job = actions.create_scrape_job(
            self.mia, self.acme, name="acme shop", url=self.site.url("/metrics")
        )
        scrape_runs.run_due()
        self.staff = Client()
        self.staff.force_login(self.alice)
        self.manager = Client()
        self.manager.force_login(self.mia)

    def test_the_list_shows_the_last_scrape(self):
        page = self.staff.get("/monitoring/scrape-jobs").content.decode()
        self.assertIn("acme shop", page)
        self.assertIn(">Up<", page)
        self.assertIn("/monitoring/scrape-jobs", self.staff.get("/monitoring/").content.decode())

    def test_the_job_page_shows_its_last_scrapes_error_and_series(self):
        self.site.status = 500
        actions.scrape_now(self.mia, self.job)
        scrape_runs.run_due()
        page = self.staff.get(f"/monitoring/scrape-jobs/{self.job.pk}").content.decode()
        self.assertIn("status 500, expected 2xx", page)
        self.assertIn("orders_total", page)
        self.assertIn('shop="north"', page)
        self.assertEqual(page.count('class="badge firing">0<'), 1)  # the failed run's up
        self.assertEqual(page.count('class="badge resolved">1<'), 1)
        self.assertIn("Scrape of acme shop failed", page)  # its alert
        self.assertNotIn("Pause</button>", page)  # buttons are for managers
        manager = self.manager.get(f"/monitoring/scrape-jobs/{self.job.pk}").content.decode()
        self.assertIn("Scrape now</button>", manager)

    def test_a_manager_makes_and_changes_a_job_with_the_form(self):
        self.assertEqual(self.staff.get("/monitoring/scrape-jobs/new").status_code, 403)
        form = {
            "organization": self.acme.pk,
            "name": "acme api",
            "url": self.site.url("/metrics"),
            "config_item": self.acme_prod.pk,
            "interval_seconds": 30,
            "timeout_seconds": 5,
            "labels": "env=prod\nteam = payments",
        }
        bad = self.manager.post("/monitoring/scrape-jobs/new", {**form, "timeout_seconds": 40})
        self.assertEqual(bad.status_code, 422)
        self.assertIn("shorter than interval_seconds", bad.content.decode())
        odd = self.manager.post("/monitoring/scrape-jobs/new", {**form, "labels": "env"})
        self.assertEqual(odd.status_code, 422)
        made = self.manager.post("/monitoring/scrape-jobs/new", form)
        self.assertEqual(made.status_code, 302)
        job = ScrapeJob.objects.get(name="acme api")
        self.assertEqual(job.labels, {"env": "prod", "team": "payments"})
        edit = f"/monitoring/scrape-jobs/{job.pk}/edit"
        self.assertIn("env=prod", self.manager.get(edit).content.decode())
        changed = self.manager.post(edit, {**form, "labels": "", "interval_seconds": 120})
        self.assertEqual(changed.status_code, 302)
        job.refresh_from_db()
        self.assertEqual((job.labels, job.interval_seconds), ({}, 120))

    def test_the_buttons_pause_resume_scrape_and_delete(self):
        base = f"/monitoring/scrape-jobs/{self.job.pk}"
        self.assertEqual(self.staff.post(f"{base}/pause").status_code, 403)
        self.manager.post(f"{base}/pause")
        self.job.refresh_from_db()
        self.assertTrue(self.job.paused)
        self.manager.post(f"{base}/resume")
        self.manager.post(f"{base}/scrape")
        self.job.refresh_from_db()
        self.assertFalse(self.job.paused)
        self.assertEqual(self.manager.post(f"{base}/delete").status_code, 302)
        self.assertFalse(ScrapeJob.objects.filter(pk=self.job.pk).exists())

    def test_the_admin_lists_them(self):
        admin = Client()
        admin.force_login(self.root)
        page = admin.get("/admin/monitoring/scrapejob/")
        self.assertEqual(page.status_code, 200)
        self.assertIn("acme shop", page.content.decode())
