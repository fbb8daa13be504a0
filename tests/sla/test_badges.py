from datetime import UTC, datetime, timedelta

import time_machine
from django.test import Client

from sustain.sla import sweep
from sustain.sla.models import Calendar, Metric, Policy, Target
from tests.base import SustainTestCase

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class QueueBadgeTests(SustainTestCase):
    def setUp(self):
        calendar = Calendar.objects.create(name="24x7", always=True)
        policy = Policy.objects.create(name="All", calendar=calendar)
        Target.objects.create(policy=policy, priority=3, metric=Metric.FIRST_RESPONSE, minutes=60)
        with time_machine.travel(START, tick=False):
            self.ticket = self.open_ticket(self.carol)
        self.client = Client()
        self.client.force_login(self.alice)

    def page(self, when: datetime) -> str:
        with time_machine.travel(when, tick=False):
            return self.client.get("/desk/?queue=open").content.decode()

    def test_the_badge_turns_from_green_to_amber_to_red(self):
        self.assertIn("sla sla-green", self.page(START + timedelta(minutes=10)))
        self.assertIn("response in 50\xa0min", self.page(START + timedelta(minutes=10)))
        self.assertIn("sla sla-amber", self.page(START + timedelta(minutes=50)))
        sweep.sweep(START + timedelta(minutes=61))
        page = self.page(START + timedelta(minutes=90))
        self.assertIn("sla sla-red", page)
        self.assertIn("response overdue 30\xa0min", page)

    def test_the_ticket_page_shows_every_clock(self):
        with time_machine.travel(START + timedelta(minutes=5), tick=False):
            page = self.client.get(f"/desk/t/{self.ticket.key}").content.decode()
        self.assertIn("First Response</strong>: running", page)
