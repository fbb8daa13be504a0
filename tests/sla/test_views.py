from datetime import UTC, date, datetime

from django.test import Client

from sustain.sla import escalation
from sustain.sla.models import Calendar, OnCallParticipant, OnCallSchedule
from tests.base import SustainTestCase


class SlaPagesTests(SustainTestCase):
    def setUp(self):
        self.client = Client()
        self.client.force_login(self.alice)
        self.calendar = Calendar.objects.create(
            name="Office", timezone="Europe/Berlin", hours={"mon": [["09:00", "17:00"]]}
        )

    def test_the_calendar_page_answers_the_what_if_in_place(self):
        response = self.client.get(
            f"/sla/calendars/{self.calendar.pk}",
            {"start": "2026-11-23T16:00", "minutes": "120"},
            headers={"HX-Request": "true"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Mon 30 Nov 2026 10:00")

    def test_a_bad_what_if_says_what_is_wrong(self):
        response = self.client.get(
            f"/sla/calendars/{self.calendar.pk}", {"start": "soon", "minutes": "5"}
        )
        self.assertContains(response, "Give a start time", status_code=422)

    def test_on_call_page_names_who_is_on_call_and_acknowledges_pages(self):
        schedule = OnCallSchedule.objects.create(
            team=self.service_desk,
            name="Desk",
            slug="desk",
            rotation_start=date(2026, 1, 5),
            shift_hours=24 * 365 * 10,
        )
        OnCallParticipant.objects.create(schedule=schedule, user=self.alice, position=0)
        page = escalation.page(schedule, None, "Checkout down", datetime.now(UTC))
        response = self.client.get("/sla/oncall")
        self.assertContains(response, "<strong>Alice Agent</strong> (rotation)", html=False)
        self.assertContains(response, "Checkout down")
        self.client.post(f"/sla/pages/{page.pk}/ack")
        page.refresh_from_db()
        self.assertIsNotNone(page.acknowledged_at)

    def test_customers_cannot_see_sla_pages(self):
        customer = Client()
        customer.force_login(self.carol)
        self.assertEqual(customer.get("/sla/calendars").status_code, 403)
        self.assertEqual(customer.get("/sla/oncall").status_code, 403)

    def test_who_is_on_call_at_a_given_time(self):
        schedule = OnCallSchedule.objects.create(
            team=self.service_desk,
            name="Desk",
            slug="desk",
            rotation_start=date(2026, 1, 5),
            shift_hours=24,
        )
        OnCallParticipant.objects.create(schedule=schedule, user=self.alice, position=0)
        OnCallParticipant.objects.create(schedule=schedule, user=self.bob, position=1)
        self.assertContains(
            self.client.get("/sla/oncall", {"at": "2026-01-05T12:00"}),
            "<strong>Alice Agent</strong>",
        )
        self.assertContains(
            self.client.get("/sla/oncall", {"at": "2026-01-06T12:00"}),
            "<strong>Bob Teammate</strong>",
        )
        self.assertContains(
            self.client.get("/sla/oncall", {"at": "tuesday"}), "YYYY-MM-DD", status_code=422
        )
