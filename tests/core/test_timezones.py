"""Time zones are IANA names only, never the host's "localtime", wherever one is given:
calendars, on-call rotations and users."""

from __future__ import annotations

from sustain.accounts import actions as accounts
from sustain.core.errors import Invalid
from sustain.sla.models import Calendar, OnCallSchedule
from tests.base import SustainTestCase


class TimeZonesAreIanaNames(SustainTestCase):
    """ZoneInfo("localtime") loads /etc/localtime: a zone that depends on the host."""

    HOST = ("localtime", "posixrules", "Factory")

    def setUp(self):
        self.root_api = self.api(self.root)

    def test_calendars(self):
        for name in self.HOST:
            with self.subTest(name=name):
                response = self.root_api.post(
                    "/api/v1/sla/calendars", {"name": "Host", "timezone": name, "always": True}
                )
                self.assertEqual(response.status_code, 422, response.content)
                self.assertEqual(response.json()["errors"][0]["field"], "timezone")
        self.assertFalse(Calendar.objects.exists())
        self.assertEqual(
            self.root_api.post(
                "/api/v1/sla/calendars", {"name": "B", "timezone": "Europe/Berlin", "always": True}
            ).status_code,
            201,
        )

    def test_rotations(self):
        response = self.root_api.post(
            "/api/v1/oncall",
            {
                "team": "service-desk",
                "name": "Nights",
                "slug": "nights",
                "participants": [self.alice.email],
                "rotation_start": "2026-10-19",
                "timezone": "localtime",
            },
        )
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual(response.json()["errors"][0]["field"], "timezone")
        self.assertFalse(OnCallSchedule.objects.exists())

    def test_a_users_time_zone(self):
        response = self.api(self.carol).patch(
            "/api/v1/me/notifications", {"time_zone": "localtime"}
        )
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual(response.json()["errors"][0]["field"], "time_zone")
        with self.assertRaises(Invalid) as caught:
            accounts.create_user(
                self.root,
                email="host@acme.test",
                name="Host",
                organization=self.acme,
                time_zone="localtime",
            )
        self.assertEqual(caught.exception.errors[0]["field"], "time_zone")
