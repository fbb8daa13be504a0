"""Heartbeats: the healthchecks-compatible ping URLs, rid pairing and durations, the body
cap, period + grace and cron + time zone deadlines, the sweep (late → down → one incident,
claimed once), success resolving, pause; all with `now` parameters, no sleeps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from django.test import Client

from sustain.core.errors import Invalid
from sustain.desk.models import Status, Ticket
from sustain.monitoring import actions, heartbeats
from sustain.monitoring.models import Alert, Heartbeat, Ping
from tests.base import SustainTestCase

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
State = Heartbeat.State


def call(kind: str = Ping.Kind.SUCCESS, **fields) -> heartbeats.Call:
    return heartbeats.Call(kind=kind, **fields)


class PingUrlTests(SustainTestCase):
    def setUp(self):
        self.beat = actions.create_heartbeat(
            self.mia, self.acme, name="nightly backup", config_item=self.acme_prod
        )
        self.client = Client()
        self.url = f"/ping/{self.beat.uuid}"

    def last(self) -> Ping:
        return Ping.objects.filter(heartbeat=self.beat).latest("id")

    def test_a_success_ping_answers_ok_as_plain_text_and_makes_it_up(self):
        answer = self.client.get(self.url, HTTP_USER_AGENT="curl/8.5")
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(answer.content, b"OK")
        self.assertTrue(answer["Content-Type"].startswith("text/plain"))
        self.beat.refresh_from_db()
        self.assertEqual(self.beat.state, State.UP)
        ping = self.last()
        self.assertEqual((ping.kind, ping.method, ping.user_agent), ("success", "GET", "curl/8.5"))
        self.assertEqual(ping.remote_addr, "127.0.0.1")

    def test_each_form_of_the_url(self):
        for suffix, kind, status, state in (
            ("/start", "start", None, State.STARTED),
            ("/log", "log", None, State.STARTED),
            ("/0", "success", 0, State.UP),
            ("/fail", "fail", None, State.DOWN),
            ("", "success", None, State.UP),
            ("/3", "fail", 3, State.DOWN),
        ):
            with self.subTest(suffix=suffix):
                self.assertEqual(self.client.post(self.url + suffix).status_code, 200)
                ping = self.last()
                self.assertEqual((ping.kind, ping.exit_status), (kind, status))
                self.beat.refresh_from_db()
                self.assertEqual(self.beat.state, state)

    def test_head_is_a_ping_too_and_other_methods_are_refused(self):
        self.assertEqual(self.client.head(self.url).status_code, 200)
        self.assertEqual(self.last().method, "HEAD")
        self.assertEqual(self.client.put(self.url).status_code, 405)

    def test_unknown_uuid_exit_status_or_action_is_not_found(self):
        for url in (f"/ping/{uuid.uuid4()}", f"/ping/{uuid.uuid4()}/start", self.url + "/256"):
            answer = self.client.get(url)
            self.assertEqual(answer.status_code, 404, url)
            self.assertEqual(answer.content, b"not found")
        self.assertEqual(self.client.get(self.url + "/restart").status_code, 404)
        self.assertFalse(Ping.objects.exists())

    def test_no_csrf_token_is_needed(self):
        strict = Client(enforce_csrf_checks=True)
        self.assertEqual(
            strict.post(self.url + "/start", data=b"x", content_type="text/plain").status_code, 200
        )

    def test_the_body_is_kept_up_to_the_cap(self):
        self.client.post(self.url + "/log", data="backup: 12 files\n", content_type="text/plain")
        self.assertEqual(self.last().body, "backup: 12 files\n")
        big = "é" * heartbeats.BODY_MAX  # twice the cap in bytes
        self.client.post(self.url, data=big, content_type="text/plain")
        kept = self.last().body
        self.assertLessEqual(len(kept.encode()), heartbeats.BODY_MAX + 3)
        self.assertTrue(kept.startswith("é" * 100))

    def test_rid_pairs_a_start_with_its_end(self):
        rid = uuid.uuid4()
        other = uuid.uuid4()
        heartbeats.ping(self.beat.uuid, call("start", rid=rid), now=T0)
        heartbeats.ping(self.beat.uuid, call("start", rid=other), now=T0 + timedelta(minutes=1))
        done = heartbeats.ping(self.beat.uuid, call(rid=rid), now=T0 + timedelta(minutes=5))
        self.assertEqual(done.duration, timedelta(minutes=5))
        self.beat.refresh_from_db()
        self.assertEqual(self.beat.last_duration, timedelta(minutes=5))
        self.assertEqual(self.client.get(self.url + f"?rid={rid}").status_code, 200)
        self.assertEqual(self.client.get(self.url + "?rid=nope").status_code, 400)

    def test_without_rid_the_last_start_is_paired(self):
        heartbeats.ping(self.beat.uuid, call("start"), now=T0)
        done = heartbeats.ping(self.beat.uuid, call("fail"), now=T0 + timedelta(seconds=90))
        self.assertEqual(done.duration, timedelta(seconds=90))
        again = heartbeats.ping(self.beat.uuid, call(), now=T0 + timedelta(minutes=3))
        self.assertIsNone(again.duration)  # not running any more: nothing to pair


class DeadlineTests(SustainTestCase):
    def setUp(self):
        self.beat = actions.create_heartbeat(
            self.mia,
            self.acme,
            name="hourly sync",
            period_seconds=3600,
            grace_seconds=600,
            config_item=self.acme_prod,
        )

    def fresh(self) -> Heartbeat:
        return Heartbeat.objects.get(pk=self.beat.pk)

    def test_a_new_heartbeat_has_no_deadline(self):
        self.assertEqual(self.beat.state, State.NEW)
        self.assertIsNone(self.beat.next_deadline_at)
        self.assertEqual(heartbeats.heartbeat_sweep(T0 + timedelta(days=30)), 0)

    def test_period_and_grace_late_then_down_then_one_incident_then_resolved(self):
        heartbeats.ping(self.beat.uuid, call(), now=T0)
        self.assertEqual(self.fresh().next_deadline_at, T0 + timedelta(hours=1))
        self.assertEqual(heartbeats.heartbeat_sweep(T0 + timedelta(minutes=59)), 0)
        self.assertEqual(heartbeats.heartbeat_sweep(T0 + timedelta(minutes=61)), 1)
        beat = self.fresh()
        self.assertEqual(beat.state, State.LATE)
        self.assertEqual(beat.next_deadline_at, T0 + timedelta(minutes=70))
        self.assertFalse(Alert.objects.exists())  # late is not yet an alert
        self.assertEqual(heartbeats.heartbeat_sweep(T0 + timedelta(minutes=71)), 1)
        beat = self.fresh()
        self.assertEqual((beat.state, beat.next_deadline_at), (State.DOWN, None))
        alert = Alert.objects.get(source=beat.source)
        self.assertEqual(alert.state, Alert.State.FIRING)
        self.assertEqual(alert.config_item, self.acme_prod)
        ticket = alert.ticket
        self.assertEqual(ticket.organization, self.acme)
        self.assertEqual(heartbeats.heartbeat_sweep(T0 + timedelta(hours=5)), 0)
        # a failure while down opens nothing more
        heartbeats.ping(self.beat.uuid, call("fail"), now=T0 + timedelta(hours=5))
        self.assertEqual(Ticket.objects.filter(alerts__source=beat.source).count(), 1)
        heartbeats.ping(self.beat.uuid, call(), now=T0 + timedelta(hours=6))
        alert.refresh_from_db()
        ticket.refresh_from_db()
        self.assertEqual(alert.state, Alert.State.RESOLVED)
        self.assertEqual(ticket.status, Status.RESOLVED)
        self.assertEqual(self.fresh().state, State.UP)

    def test_a_run_started_while_down_resolves_the_alert_when_it_succeeds(self):
        heartbeats.ping(self.beat.uuid, call(), now=T0)
        heartbeats.heartbeat_sweep(T0 + timedelta(hours=3))  # straight to down
        alert = Alert.objects.get(source=self.beat.source)
        self.assertEqual(alert.state, Alert.State.FIRING)
        heartbeats.ping(self.beat.uuid, call("start"), now=T0 + timedelta(hours=4))
        alert.refresh_from_db()
        self.assertEqual(alert.state, Alert.State.FIRING)  # running is not yet done
        heartbeats.ping(self.beat.uuid, call(), now=T0 + timedelta(hours=4, minutes=20))
        alert.refresh_from_db()
        alert.ticket.refresh_from_db()
        self.assertEqual(
            (alert.state, alert.ticket.status), (Alert.State.RESOLVED, Status.RESOLVED)
        )
        self.assertEqual(self.fresh().state, State.UP)

    def test_a_sweep_that_comes_late_goes_straight_to_down(self):
        heartbeats.ping(self.beat.uuid, call(), now=T0)
        self.assertEqual(heartbeats.heartbeat_sweep(T0 + timedelta(hours=3)), 1)
        self.assertEqual(self.fresh().state, State.DOWN)
        self.assertEqual(Alert.objects.filter(state="firing").count(), 1)

    def test_the_sweep_claims_each_heartbeat_once(self):
        heartbeats.ping(self.beat.uuid, call(), now=T0)
        now = T0 + timedelta(hours=3)
        stale = list(Heartbeat.objects.filter(pk=self.beat.pk))  # what a second worker read
        self.assertEqual(heartbeats.heartbeat_sweep(now), 1)
        self.assertEqual(heartbeats.heartbeat_sweep(now), 0)
        # a worker that read the row before the first one's claim moves nothing either
        self.assertEqual(heartbeats.advance(stale[0], now), 0)
        self.assertEqual(Alert.objects.count(), 1)
        self.assertEqual(Ticket.objects.filter(alerts__isnull=False).count(), 1)

    def test_a_started_run_must_end_within_the_grace(self):
        heartbeats.ping(self.beat.uuid, call("start"), now=T0)
        self.assertEqual(self.fresh().next_deadline_at, T0 + timedelta(minutes=10))
        self.assertEqual(heartbeats.heartbeat_sweep(T0 + timedelta(minutes=11)), 1)
        self.assertEqual(self.fresh().state, State.DOWN)
        self.assertIn("longer than its grace", Alert.objects.get().annotations["summary"])

    def test_a_failure_raises_an_alert_at_once(self):
        heartbeats.ping(self.beat.uuid, call("fail", exit_status=2), now=T0)
        alert = Alert.objects.get()
        self.assertEqual(alert.state, Alert.State.FIRING)
        self.assertIn("exit status 2", alert.annotations["summary"])
        self.assertIsNotNone(alert.ticket)

    def test_a_log_ping_changes_nothing(self):
        heartbeats.ping(self.beat.uuid, call(), now=T0)
        heartbeats.ping(self.beat.uuid, call("log", body="x"), now=T0 + timedelta(minutes=30))
        beat = self.fresh()
        self.assertEqual((beat.state, beat.next_deadline_at), (State.UP, T0 + timedelta(hours=1)))

    def test_paused_heartbeats_never_alert(self):
        heartbeats.ping(self.beat.uuid, call(), now=T0)
        actions.pause(self.mia, self.beat)
        self.assertEqual(heartbeats.heartbeat_sweep(T0 + timedelta(days=3)), 0)
        heartbeats.ping(self.beat.uuid, call("fail"), now=T0 + timedelta(days=3))
        self.assertEqual(self.fresh().state, State.PAUSED)
        self.assertFalse(Alert.objects.exists())
        actions.resume(self.mia, self.beat)
        self.assertEqual(self.fresh().state, State.NEW)

    def test_pausing_a_down_heartbeat_resolves_its_alert(self):
        heartbeats.ping(self.beat.uuid, call("fail"), now=T0)
        actions.pause(self.mia, self.beat, now=T0 + timedelta(minutes=1))
        self.assertEqual(Alert.objects.get().state, Alert.State.RESOLVED)


class CronTests(SustainTestCase):
    def test_cron_deadlines_are_read_in_the_heartbeat_time_zone(self):
        beat = actions.create_heartbeat(
            self.mia,
            self.acme,
            name="daily report",
            cron="30 2 * * *",
            time_zone="Europe/Paris",
            grace_seconds=900,
        )
        # 08:00 UTC is 09:00 in Paris: the next run is 02:30 Paris the next day, 01:30 UTC
        heartbeats.ping(beat.uuid, call(), now=T0)
        beat.refresh_from_db()
        self.assertEqual(beat.next_deadline_at, datetime(2026, 12, 8, 1, 30, tzinfo=UTC))
        heartbeats.heartbeat_sweep(datetime(2026, 12, 8, 1, 31, tzinfo=UTC))
        beat.refresh_from_db()
        self.assertEqual(beat.state, State.LATE)
        self.assertEqual(beat.next_deadline_at, datetime(2026, 12, 8, 1, 45, tzinfo=UTC))

    def test_a_bad_schedule_is_refused_naming_the_field(self):
        for fields, name in (
            ({"cron": "every day"}, "cron"),
            ({"cron": "0 * * * *", "time_zone": "Mars/Olympus"}, "time_zone"),
            ({"period_seconds": 5}, "period_seconds"),
            ({"grace_seconds": "soon"}, "grace_seconds"),
        ):
            with self.subTest(field=name), self.assertRaises(Invalid) as refused:
                actions.create_heartbeat(self.mia, self.acme, name=f"bad {name}", **fields)
            self.assertEqual(refused.exception.errors[0]["field"], name)
        self.assertFalse(Heartbeat.objects.exists())

    def test_rescheduling_counts_from_the_last_ping(self):
        beat = actions.create_heartbeat(self.mia, self.acme, name="job", period_seconds=3600)
        heartbeats.ping(beat.uuid, call(), now=T0)
        beat = actions.update_heartbeat(self.mia, beat, {"cron": "0 12 * * *"})
        self.assertEqual(beat.next_deadline_at, datetime(2026, 12, 7, 12, tzinfo=UTC))


class HeartbeatPagesAndApiTests(SustainTestCase):
    def setUp(self):
        self.beat = actions.create_heartbeat(self.mia, self.acme, name="acme nightly backup")
        heartbeats.ping(self.beat.uuid, call("start", body="starting"), now=T0)
        heartbeats.ping(self.beat.uuid, call(body="12 files copied"), now=T0 + timedelta(minutes=2))
        self.secret = actions.create_heartbeat(self.mia, self.globex, name="globex secret job")

    def signed_in(self, user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def test_staff_see_the_list_with_a_curl_line_and_the_last_pings(self):
        page = self.signed_in(self.alice).get("/monitoring/heartbeats")
        self.assertContains(page, "acme nightly backup")
        self.assertContains(
            page, f"curl -fsS -m 10 --retry 5 http://127.0.0.1:8000/ping/{self.beat.uuid}"
        )
        self.assertContains(page, "Up")
        detail = self.signed_in(self.alice).get(f"/monitoring/heartbeats/{self.beat.pk}")
        self.assertContains(detail, "12 files copied")
        self.assertContains(detail, "0:02:00")
        self.assertContains(
            self.signed_in(self.alice).get("/monitoring/"), "/monitoring/heartbeats"
        )

    def test_the_api_creates_pauses_resumes_and_lists_pings(self):
        api = self.api(self.mia)
        made = api.post(
            "/api/v1/monitoring/heartbeats",
            {
                "organization": "acme",
                "name": "api job",
                "cron": "0 3 * * *",
                "time_zone": "Europe/Paris",
            },
        )
        self.assertEqual(made.status_code, 201, made.content)
        body = made.json()
        self.assertTrue(body["ping_url"].endswith(f"/ping/{body['uuid']}"))
        self.assertEqual(body["state"], "new")
        bad = api.post(
            "/api/v1/monitoring/heartbeats", {"organization": "acme", "name": "x", "cron": "nope"}
        )
        self.assertEqual(bad.status_code, 422)
        self.assertEqual(bad.json()["errors"][0]["field"], "cron")
        paused = api.post(f"/api/v1/monitoring/heartbeats/{body['id']}/pause")
        self.assertEqual(paused.json()["state"], "paused")
        resumed = api.post(f"/api/v1/monitoring/heartbeats/{body['id']}/resume")
        self.assertEqual(resumed.json()["state"], "new")
        patched = api.patch(f"/api/v1/monitoring/heartbeats/{body['id']}", {"grace_seconds": 120})
        self.assertEqual(patched.json()["grace_seconds"], 120)
        pings = api.get(f"/api/v1/monitoring/heartbeats/{self.beat.pk}/pings").json()["results"]
        self.assertEqual([p["kind"] for p in pings], ["success", "start"])
        self.assertEqual(pings[0]["body"], "12 files copied")
        self.assertEqual(api.delete(f"/api/v1/monitoring/heartbeats/{body['id']}").status_code, 204)
        self.assertFalse(Heartbeat.objects.filter(pk=body["id"]).exists())

    def test_a_customer_sees_only_its_own_heartbeats_and_cannot_change_them(self):
        api = self.api(self.carol)
        names = [h["name"] for h in api.get("/api/v1/monitoring/heartbeats").json()["results"]]
        self.assertEqual(names, ["acme nightly backup"])
        self.assertEqual(
            api.get(f"/api/v1/monitoring/heartbeats/{self.secret.pk}").status_code, 404
        )
        self.assertEqual(
            api.get(f"/api/v1/monitoring/heartbeats/{self.secret.pk}/pings").status_code, 404
        )
        self.assertEqual(
            api.post(f"/api/v1/monitoring/heartbeats/{self.beat.pk}/pause").status_code, 403
        )
        other = self.api(self.dave)
        self.assertNotIn(
            "acme nightly backup", other.get("/api/v1/monitoring/heartbeats").content.decode()
        )
        self.assertEqual(
            other.get(f"/api/v1/monitoring/heartbeats/{self.beat.pk}").status_code, 404
        )
