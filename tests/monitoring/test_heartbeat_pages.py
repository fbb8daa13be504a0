"""Managers make, change, pause, resume and delete heartbeats from their pages, through the
same actions as the API; agents read them; a bad schedule is refused beside its field with
what was typed kept; another customer's item cannot be chosen."""

from __future__ import annotations

from django.test import Client

from sustain.monitoring.models import Heartbeat, Source
from tests.base import SustainTestCase

FORM = {"period_seconds": 86400, "grace_seconds": 3600, "time_zone": "UTC", "cron": ""}


class HeartbeatPageTests(SustainTestCase):
    def setUp(self):
        self.staff = Client()
        self.staff.force_login(self.alice)
        self.manager = Client()
        self.manager.force_login(self.mia)

    def make(self, **fields):
        data = {"organization": self.acme.pk, "name": "nightly backup", **FORM, **fields}
        return self.manager.post("/monitoring/heartbeats/new", data)

    def test_a_manager_makes_one_with_a_cron_expression_and_a_zone(self):
        self.assertIn("New heartbeat", self.manager.get("/monitoring/heartbeats").content.decode())
        answer = self.make(
            cron="30 2 * * *", time_zone="Europe/Berlin", config_item=self.acme_prod.pk
        )
        self.assertEqual(answer.status_code, 302)
        beat = Heartbeat.objects.get(name="nightly backup")
        self.assertEqual(
            (beat.cron, beat.time_zone, beat.state), ("30 2 * * *", "Europe/Berlin", "new")
        )
        self.assertEqual(beat.config_item, self.acme_prod)
        self.assertEqual(answer["Location"], f"/monitoring/heartbeats/{beat.pk}")
        page = self.manager.get(answer["Location"]).content.decode()
        self.assertIn(f"/ping/{beat.uuid}", page)
        self.assertIn("Pause</button>", page)

    def test_a_bad_cron_expression_is_refused_and_what_was_typed_is_kept(self):
        answer = self.make(cron="every night", name="typed name")
        self.assertEqual(answer.status_code, 422)
        page = answer.content.decode()
        self.assertIn("cron", page.lower())
        self.assertIn('value="typed name"', page)
        self.assertFalse(Heartbeat.objects.exists())
        self.assertFalse(Source.objects.exists())  # nothing half-written

    def test_another_customers_item_cannot_be_chosen(self):
        answer = self.make(config_item=self.globex_prod.pk)
        self.assertEqual(answer.status_code, 422)
        self.assertFalse(Heartbeat.objects.exists())

    def test_agents_read_but_do_not_change(self):
        self.make()
        beat = Heartbeat.objects.get()
        self.assertEqual(self.staff.get("/monitoring/heartbeats/new").status_code, 403)
        self.assertEqual(
            self.staff.post(f"/monitoring/heartbeats/{beat.pk}/pause").status_code, 403
        )
        page = self.staff.get(f"/monitoring/heartbeats/{beat.pk}").content.decode()
        self.assertNotIn("Pause</button>", page)
        self.assertNotIn("New heartbeat", self.staff.get("/monitoring/heartbeats").content.decode())

    def test_change_pause_resume_and_delete(self):
        self.make()
        beat = Heartbeat.objects.get()
        edit = f"/monitoring/heartbeats/{beat.pk}/edit"
        self.assertIn('value="nightly backup"', self.manager.get(edit).content.decode())
        changed = self.manager.post(
            edit, {**FORM, "name": "weekly backup", "period_seconds": 604800}
        )
        self.assertEqual(changed.status_code, 302)
        beat.refresh_from_db()
        self.assertEqual((beat.name, beat.period_seconds), ("weekly backup", 604800))
        self.manager.post(f"/monitoring/heartbeats/{beat.pk}/pause")
        beat.refresh_from_db()
        self.assertEqual(beat.state, Heartbeat.State.PAUSED)
        self.assertIn(
            "Resume</button>",
            self.manager.get(f"/monitoring/heartbeats/{beat.pk}").content.decode(),
        )
        self.manager.post(f"/monitoring/heartbeats/{beat.pk}/resume")
        beat.refresh_from_db()
        self.assertEqual(beat.state, Heartbeat.State.NEW)
        gone = self.manager.post(f"/monitoring/heartbeats/{beat.pk}/delete")
        self.assertEqual(gone["Location"], "/monitoring/heartbeats")
        self.assertFalse(Heartbeat.objects.exists())
