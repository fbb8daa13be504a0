"""Who is on call, overrides, pages that pass to the next person when nobody answers."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core import mail

from sustain.core import outbox
from sustain.sla import escalation, oncall
from sustain.sla.models import OnCallSchedule, Page
from tests.base import SustainTestCase

BERLIN = ZoneInfo("Europe/Berlin")


class OnCallTests(SustainTestCase):
    def setUp(self):
        self.api_root = self.api(self.root)
        response = self.api_root.post(
            "/api/v1/oncall",
            {
                "team": "service-desk",
                "name": "Service Desk nights",
                "slug": "desk-oncall",
                "participants": [self.alice.email, self.bob.email],
                "rotation_start": "2026-10-19",
                "timezone": "Europe/Berlin",
                "shift_hours": 24 * 7,
                "handover": "09:00",
                "ack_minutes": 10,
            },
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.schedule = OnCallSchedule.objects.get(slug="desk-oncall")

    def who(self, when: datetime) -> str:
        response = self.api(self.alice).get("/api/v1/oncall/desk-oncall/now", at=when.isoformat())
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()["user"]

    def test_weekly_rotation_hands_over_at_nine_local_time_across_the_dst_change(self):
        self.assertEqual(self.who(datetime(2026, 10, 19, 9, 0, tzinfo=BERLIN)), self.alice.email)
        self.assertEqual(self.who(datetime(2026, 10, 26, 8, 59, tzinfo=BERLIN)), self.alice.email)
        # Clocks went back on 25 October; the hand-over stays at 09:00 Berlin time.
        self.assertEqual(self.who(datetime(2026, 10, 26, 9, 0, tzinfo=BERLIN)), self.bob.email)
        self.assertEqual(self.who(datetime(2026, 11, 2, 9, 0, tzinfo=BERLIN)), self.alice.email)

    def test_an_override_takes_the_pager(self):
        start = datetime(2026, 10, 20, 18, 0, tzinfo=UTC)
        response = self.api(self.bob).post(
            "/api/v1/oncall/desk-oncall/overrides",
            {
                "user": self.bob.email,
                "start": start.isoformat(),
                "end": (start + timedelta(hours=12)).isoformat(),
            },
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["source"], "override")
        self.assertEqual(self.who(start + timedelta(hours=1)), self.bob.email)
        self.assertEqual(self.who(start + timedelta(hours=13)), self.alice.email)

    def test_before_the_rotation_starts_nobody_is_on_call(self):
        self.assertEqual(
            oncall.on_call(self.schedule, datetime(2026, 10, 1, tzinfo=UTC)),
            (None, "rotation not started"),
        )

    def test_an_unanswered_page_goes_to_the_next_person_once_and_an_answered_one_stops(self):
        now = datetime(2026, 10, 20, 3, 0, tzinfo=UTC)  # alice's week
        with self.captureOnCommitCallbacks(execute=True):
            first = escalation.page(self.schedule, None, "Database down", now)
        self.assertEqual(first.user, self.alice)
        self.assertEqual(escalation.escalate_pages(now + timedelta(minutes=9)), 0)
        self.assertEqual(escalation.escalate_pages(now + timedelta(minutes=10)), 1)
        self.assertEqual(escalation.escalate_pages(now + timedelta(minutes=10)), 0)
        second = Page.objects.exclude(pk=first.pk).get()
        self.assertEqual((second.user, second.attempt), (self.bob, 2))
        response = self.api(self.bob).post(f"/api/v1/oncall/pages/{second.pk}/ack")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(escalation.escalate_pages(now + timedelta(minutes=30)), 0)
        again = self.api(self.bob).post(f"/api/v1/oncall/pages/{second.pk}/ack")
        self.assertEqual(again.status_code, 409)
        outbox.deliver_due()
        self.assertEqual(sorted(m.to[0] for m in mail.outbox), [self.alice.email, self.bob.email])

    def test_someone_else_cannot_acknowledge_your_page(self):
        created = escalation.page(
            self.schedule, None, "Disk full", datetime(2026, 10, 20, tzinfo=UTC)
        )
        self.assertEqual(
            self.api(self.bob).post(f"/api/v1/oncall/pages/{created.pk}/ack").status_code, 403
        )
        self.assertEqual(
            self.api(self.carol).post(f"/api/v1/oncall/pages/{created.pk}/ack").status_code, 404
        )

    def test_a_schedule_needs_agents_and_a_known_zone(self):
        bad = self.api_root.post(
            "/api/v1/oncall",
            {
                "team": "service-desk",
                "name": "x",
                "slug": "x",
                "participants": [self.carol.email],
                "rotation_start": "2026-10-19",
            },
        )
        self.assertEqual(bad.status_code, 422)
        self.assertEqual(bad.json()["errors"][0]["field"], "participants")
        self.assertEqual(date(2026, 10, 19), self.schedule.rotation_start)
