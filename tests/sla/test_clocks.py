"""SLA clocks follow the ticket: paused while waiting on the customer, met by replies and
resolution, recomputed from history, warned and breached once by the sweep."""

from datetime import UTC, datetime, timedelta

import time_machine

from sustain.core.models import Event
from sustain.desk import actions as desk
from sustain.sla import sweep
from sustain.sla.models import Calendar, Clock, Metric, Policy, Target
from tests.base import SustainTestCase

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
WEEKDAYS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def at(hours: float = 0, days: int = 0) -> datetime:
    return MONDAY_9 + timedelta(days=days, hours=hours)


class ClockTests(SustainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.office = Calendar.objects.create(name="Office", timezone="UTC", hours=WEEKDAYS)
        cls.policy = Policy.objects.create(
            name="Standard", calendar=cls.office, pause_statuses=["pending"]
        )
        for priority in (1, 2, 3, 4):
            Target.objects.create(
                policy=cls.policy,
                priority=priority,
                metric=Metric.FIRST_RESPONSE,
                minutes=60 * priority,
            )
            Target.objects.create(
                policy=cls.policy,
                priority=priority,
                metric=Metric.RESOLUTION,
                minutes=480 * priority,
            )
            Target.objects.create(
                policy=cls.policy, priority=priority, metric=Metric.NEXT_UPDATE, minutes=120
            )

    def clock(self, ticket, metric=Metric.RESOLUTION) -> Clock:
        return Clock.objects.get(ticket=ticket, metric=metric)

    def open(self, **fields):
        with time_machine.travel(MONDAY_9, tick=False):
            return self.open_ticket(self.carol, impact=2, urgency=2, **fields)  # P3

    def test_a_new_ticket_gets_first_response_and_resolution_clocks_in_business_time(self):
        ticket = self.open()
        first = self.clock(ticket, Metric.FIRST_RESPONSE)
        self.assertEqual(first.state, Clock.State.RUNNING)
        self.assertEqual(first.due_at, at(3))  # P3: 180 business minutes
        resolution = self.clock(ticket)
        self.assertEqual(resolution.due_at, at(hours=8, days=2))  # 24 business hours: Wed 17:00
        self.assertEqual(resolution.warn_at, at(hours=2, days=2))  # 75 % = 18 h

    def test_waiting_on_the_customer_does_not_count_against_the_team(self):
        ticket = self.open()
        with time_machine.travel(at(2), tick=False):
            desk.transition(self.alice, ticket, "pending")
        paused = self.clock(ticket)
        self.assertEqual(
            (paused.state, paused.due_at, paused.elapsed_seconds), (Clock.State.PAUSED, None, 7200)
        )
        with time_machine.travel(at(days=1), tick=False):  # the customer answers a day later
            desk.add_comment(self.carol, ticket, "Here are the logs.")
        resumed = self.clock(ticket)
        self.assertEqual(resumed.state, Clock.State.RUNNING)
        self.assertEqual(resumed.due_at, at(hours=6, days=3))  # 22 h left from Tuesday 09:00
        next_update = self.clock(ticket, Metric.NEXT_UPDATE)
        self.assertEqual(next_update.due_at, at(hours=2, days=1))

    def test_the_first_public_agent_reply_meets_first_response_but_an_internal_note_does_not(self):
        ticket = self.open()
        with time_machine.travel(at(1), tick=False):
            desk.add_comment(self.alice, ticket, "Looking at the logs", is_public=False)
        self.assertEqual(self.clock(ticket, Metric.FIRST_RESPONSE).state, Clock.State.RUNNING)
        with time_machine.travel(at(2), tick=False):
            desk.add_comment(self.alice, ticket, "We are on it.")
        first = self.clock(ticket, Metric.FIRST_RESPONSE)
        self.assertEqual((first.state, first.met_at), (Clock.State.MET, at(2)))
        self.assertTrue(Event.objects.filter(target_id=ticket.pk, verb="sla_met").exists())

    def test_resolving_meets_and_reopening_counts_on_from_the_time_already_spent(self):
        ticket = self.open()
        with time_machine.travel(at(4), tick=False):
            desk.transition(self.alice, ticket, "resolved")
        self.assertEqual(self.clock(ticket).state, Clock.State.MET)
        with time_machine.travel(at(days=1), tick=False):
            desk.transition(self.carol, ticket, "open")
        reopened = self.clock(ticket)
        self.assertEqual(reopened.state, Clock.State.RUNNING)
        self.assertEqual(reopened.elapsed_seconds, 4 * 3600)
        self.assertEqual(reopened.due_at, at(hours=20 - 16, days=3))  # 20 h left from Tue 09:00

    def test_raising_the_priority_recomputes_from_history(self):
        ticket = self.open()
        with time_machine.travel(at(1), tick=False):
            desk.set_priority(self.alice, ticket, 1, "Whole shop is down")
        first = self.clock(ticket, Metric.FIRST_RESPONSE)
        self.assertEqual(first.target_seconds, 3600)
        self.assertEqual(first.due_at, at(1))  # the hour already spent stays spent
        self.assertEqual(self.clock(ticket).due_at, at(8))

    def test_the_sweep_warns_and_breaches_each_clock_exactly_once(self):
        ticket = self.open()
        self.assertEqual(sweep.sweep(at(2.5)), (1, 0))  # first response: 75 % at 11:15
        self.assertEqual(sweep.sweep(at(2.5)), (0, 0))
        self.assertEqual(sweep.breach_due(at(3)), 1)
        self.assertEqual(sweep.breach_due(at(3)), 0)
        breached = self.clock(ticket, Metric.FIRST_RESPONSE)
        self.assertEqual((breached.state, breached.breached_at), (Clock.State.BREACHED, at(3)))
        verbs = list(
            Event.objects.filter(target_id=ticket.pk, verb__startswith="sla_").values_list(
                "verb", flat=True
            )
        )
        self.assertEqual(verbs, ["sla_warning", "sla_breached"])
        with time_machine.travel(at(4), tick=False):
            desk.add_comment(self.alice, ticket, "Sorry for the wait.")
        late = self.clock(ticket, Metric.FIRST_RESPONSE)
        self.assertEqual((late.state, late.met_at), (Clock.State.BREACHED, at(4)))

    def test_two_sweeps_racing_claim_a_breach_once(self):
        ticket = self.open()
        clock = self.clock(ticket, Metric.FIRST_RESPONSE)
        seen_due = clock.due_at
        first = Clock.objects.filter(pk=clock.pk, state="running", due_at=seen_due).update(
            state="breached"
        )
        second = Clock.objects.filter(pk=clock.pk, state="running", due_at=seen_due).update(
            state="breached"
        )
        self.assertEqual((first, second), (1, 0))

    def test_no_policy_no_clocks(self):
        self.policy.active = False
        self.policy.save()
        ticket = self.open()
        self.assertFalse(Clock.objects.filter(ticket=ticket).exists())

    def test_a_breached_clock_keeps_counting_until_met_and_not_while_paused(self):
        ticket = self.open()
        sweep.sweep(at(4))  # first response (3 h) breached at 12:00
        with time_machine.travel(at(5), tick=False):
            desk.transition(self.alice, ticket, "pending")  # waiting 5 h → 10 h do not count
        with time_machine.travel(at(7), tick=False):
            desk.transition(self.alice, ticket, "open")
        with time_machine.travel(at(8), tick=False):
            desk.add_comment(self.alice, ticket, "Answer, late.")
        first = self.clock(ticket, Metric.FIRST_RESPONSE)
        self.assertEqual((first.state, first.met_at), (Clock.State.BREACHED, at(8)))
        self.assertEqual(first.elapsed_seconds, 6 * 3600)  # 9-14 and 16-17

    def test_a_cancelled_ticket_reopened_counts_on(self):
        ticket = self.open()
        with time_machine.travel(at(1), tick=False):
            desk.transition(self.carol, ticket, "cancelled")
        self.assertEqual(self.clock(ticket, Metric.FIRST_RESPONSE).state, Clock.State.PAUSED)
        with time_machine.travel(at(3), tick=False):
            desk.transition(self.alice, ticket, "open")
        first = self.clock(ticket, Metric.FIRST_RESPONSE)
        self.assertEqual((first.state, first.elapsed_seconds), (Clock.State.RUNNING, 3600))
        self.assertEqual(first.due_at, at(5))
