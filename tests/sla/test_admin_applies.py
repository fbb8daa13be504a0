"""A policy or calendar added or changed in the Django admin applies to open tickets."""

from sustain.sla.models import Calendar, Clock, Policy
from tests.base import SustainTestCase


class AdminAppliesTests(SustainTestCase):
    def setUp(self):
        self.calendar = Calendar.objects.create(name="Around the clock", always=True)
        self.first = self.open_ticket(self.carol, title="first")
        self.second = self.open_ticket(self.carol, title="second")
        self.client.force_login(self.root)

    def test_a_policy_added_in_the_admin_gives_open_tickets_clocks(self):
        self.assertFalse(Clock.objects.exists())
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                "/admin/sla/policy/add/",
                {
                    "name": "Standard",
                    "order": "100",
                    "active": "on",
                    "calendar": str(self.calendar.pk),
                    "kind": "",
                    "warn_percent": "75",
                    "pause_statuses": '["pending"]',
                    "targets-TOTAL_FORMS": "1",
                    "targets-INITIAL_FORMS": "0",
                    "targets-0-priority": "3",
                    "targets-0-metric": "resolution",
                    "targets-0-minutes": "240",
                },
            )
        self.assertEqual(response.status_code, 302, response.content[:3000])
        policy = Policy.objects.get(name="Standard")
        self.assertEqual(
            set(Clock.objects.filter(policy=policy).values_list("ticket__title", flat=True)),
            {"first", "second"},
        )
