"""Editing a calendar or a policy recomputes the open tickets it governs, in the background."""

from datetime import UTC, datetime, timedelta

import time_machine

from sustain.desk import actions as desk
from sustain.sla.models import Calendar, Clock, Metric, Policy, Target
from sustain.sla.recompute import recompute_all
from tests.base import SustainTestCase

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class RecomputeTests(SustainTestCase):
    def setUp(self):
        self.calendar = Calendar.objects.create(
            name="Office",
            hours={d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        )
        self.policy = Policy.objects.create(name="Standard", calendar=self.calendar)
        Target.objects.create(
            policy=self.policy, priority=3, metric=Metric.RESOLUTION, minutes=16 * 60
        )
        with time_machine.travel(MONDAY_9, tick=False):
            self.open_ticket(self.carol, title="first")
            self.waiting = self.open_ticket(self.carol, title="second")
        with time_machine.travel(MONDAY_9 + timedelta(hours=2), tick=False):
            desk.transition(self.alice, self.waiting, "pending")

    def due(self, title: str):
        return Clock.objects.get(ticket__title=title).due_at

    def test_a_calendar_edit_through_the_api_recomputes_open_tickets(self):
        self.assertEqual(self.due("first"), MONDAY_9 + timedelta(days=1, hours=8))  # Tue 17:00
        with (
            time_machine.travel(MONDAY_9 + timedelta(hours=4), tick=False),
            self.captureOnCommitCallbacks(execute=True),
        ):
            response = self.api(self.root).patch(
                f"/api/v1/sla/calendars/{self.calendar.pk}", {"always": True}
            )
        self.assertEqual(response.status_code, 200, response.content)
        # 4 hours spent stay spent; 12 hours left, now counted around the clock.
        self.assertEqual(self.due("first"), MONDAY_9 + timedelta(hours=16))
        waiting = Clock.objects.get(ticket=self.waiting)
        self.assertEqual((waiting.state, waiting.elapsed_seconds), (Clock.State.PAUSED, 2 * 3600))

    def test_recompute_all_counts_the_tickets_it_touched(self):
        self.assertEqual(
            recompute_all(calendar_id=self.calendar.pk, now=MONDAY_9 + timedelta(hours=5)), 2
        )
        self.assertEqual(recompute_all(calendar_id=self.calendar.pk + 999, now=MONDAY_9), 0)
        self.assertEqual(recompute_all(everything=True, now=MONDAY_9 + timedelta(hours=5)), 2)
