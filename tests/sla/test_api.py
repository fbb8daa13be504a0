from datetime import UTC, datetime

import time_machine

from sustain.sla.models import Calendar
from tests.base import SustainTestCase

WEEK = {d: [["09:00", "12:30"], ["13:30", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


class CalendarApiTests(SustainTestCase):
    def test_admin_creates_a_calendar_and_asks_when_minutes_are_due(self):
        api = self.api(self.root)
        response = api.post(
            "/api/v1/sla/calendars",
            {
                "name": "Berlin office",
                "timezone": "Europe/Berlin",
                "hours": WEEK,
                "holidays": ["2026-12-24"],
            },
        )
        self.assertEqual(response.status_code, 201, response.content)
        calendar = response.json()
        self.assertEqual(calendar["holidays"], [{"date": "2026-12-24", "name": ""}])
        due = api.get(
            f"/api/v1/sla/calendars/{calendar['id']}/due",
            start="2026-12-23T17:00:00+01:00",
            minutes=120,
        )
        self.assertEqual(due.status_code, 200, due.content)
        self.assertEqual(
            datetime.fromisoformat(due.json()["due"]), datetime(2026, 12, 25, 9, 0, tzinfo=UTC)
        )

    def test_a_round_the_clock_calendar(self):
        api = self.api(self.root)
        calendar = api.post("/api/v1/sla/calendars", {"name": "24x7", "always": True}).json()
        due = api.get(
            f"/api/v1/sla/calendars/{calendar['id']}/due", start="2026-12-26T23:00:00Z", minutes=90
        )
        self.assertEqual(
            datetime.fromisoformat(due.json()["due"]), datetime(2026, 12, 27, 0, 30, tzinfo=UTC)
        )

    def test_bad_hours_and_zones_name_the_field(self):
        api = self.api(self.root)
        bad_hours = api.post(
            "/api/v1/sla/calendars", {"name": "x", "hours": {"mon": [["18:00", "09:00"]]}}
        )
        self.assertEqual(
            (bad_hours.status_code, bad_hours.json()["errors"][0]["field"]), (422, "hours")
        )
        bad_zone = api.post(
            "/api/v1/sla/calendars", {"name": "y", "timezone": "Mars/Olympus", "always": True}
        )
        self.assertEqual(
            (bad_zone.status_code, bad_zone.json()["errors"][0]["field"]), (422, "timezone")
        )
        self.assertFalse(Calendar.objects.exists())

    def test_holidays_are_imported_for_a_country_and_region(self):
        api = self.api(self.root)
        calendar = api.post(
            "/api/v1/sla/calendars", {"name": "Munich", "timezone": "Europe/Berlin", "hours": WEEK}
        )
        response = api.post(
            f"/api/v1/sla/calendars/{calendar.json()['id']}/holidays/import",
            {"country": "DE", "subdivision": "BY", "year": 2026},
        )
        self.assertEqual(response.status_code, 200, response.content)
        dates = [h["date"] for h in response.json()["holidays"]]
        self.assertIn("2026-01-06", dates)  # Epiphany: Bavaria only
        self.assertIn("2026-12-25", dates)

    def test_customers_and_agents_cannot_manage_calendars(self):
        for user in (self.carol, self.alice):
            response = self.api(user).post(
                "/api/v1/sla/calendars", {"name": "Mine", "always": True}
            )
            self.assertEqual(response.status_code, 403)


class TicketClocksApiTests(SustainTestCase):
    def test_a_ticket_carries_its_clocks(self):
        api = self.api(self.root)
        calendar = api.post("/api/v1/sla/calendars", {"name": "24x7", "always": True}).json()
        policy = api.post(
            "/api/v1/sla/policies",
            {
                "name": "Acme gold",
                "calendar": calendar["id"],
                "organization": "acme",
                "targets": [
                    {"priority": 1, "metric": "first_response", "minutes": 15},
                    {"priority": 1, "metric": "resolution", "minutes": 240},
                ],
            },
        )
        self.assertEqual(policy.status_code, 201, policy.content)
        with time_machine.travel(datetime(2026, 12, 1, 8, 0, tzinfo=UTC), tick=False):
            created = self.api(self.carol).post(
                "/api/v1/tickets", {"title": "Down", "impact": 1, "urgency": 1}
            )
        self.assertEqual(created.status_code, 201, created.content)
        sla = {c["metric"]: c for c in created.json()["sla"]}
        self.assertEqual(sla["first_response"]["state"], "running")
        self.assertEqual(
            datetime.fromisoformat(sla["first_response"]["due_at"]),
            datetime(2026, 12, 1, 8, 15, tzinfo=UTC),
        )
        self.assertEqual(
            datetime.fromisoformat(sla["resolution"]["due_at"]),
            datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        )
