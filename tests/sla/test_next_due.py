"""The ticket's next-due columns (sla_due_at, sla_warn_at) follow its clocks through every
move: opening, pause, resume, replies, breach, resolution, reopening, priority change, a
policy edited or switched off, and the migration that fills them for existing tickets."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import time_machine
from django.db import connection

from sustain.desk import actions as desk
from sustain.desk.models import Ticket
from sustain.sla import actions as sla
from sustain.sla import sweep
from sustain.sla.clocks import next_due
from sustain.sla.models import Calendar, Clock, Metric, Policy, Target
from sustain.sla.recompute import recompute_all
from tests.base import SustainTestCase

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class NextDueTests(SustainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        calendar = Calendar.objects.create(name="24x7", always=True)
        cls.policy = Policy.objects.create(
            name="Standard", calendar=calendar, pause_statuses=["pending"]
        )
        for metric, minutes in (
            (Metric.FIRST_RESPONSE, 60),
            (Metric.RESOLUTION, 480),
            (Metric.NEXT_UPDATE, 30),
        ):
            Target.objects.create(policy=cls.policy, priority=3, metric=metric, minutes=minutes)
            Target.objects.create(
                policy=cls.policy, priority=1, metric=metric, minutes=minutes // 2
            )

    def setUp(self):
        with time_machine.travel(T0, tick=False):
            self.ticket = self.open_ticket(self.carol)  # P3: response 09:00, resolution 16:00

    def columns(self) -> tuple[datetime | None, datetime | None]:
        row = Ticket.objects.get(pk=self.ticket.pk)
        # Always what the clocks as stored say.
        self.assertEqual(
            (row.sla_due_at, row.sla_warn_at), next_due(Clock.objects.filter(ticket=row))
        )
        return row.sla_due_at, row.sla_warn_at

    def move(self, minutes: float, change, *args, **kwargs):
        with time_machine.travel(at(minutes), tick=False):
            change(self.alice, Ticket.objects.get(pk=self.ticket.pk), *args, **kwargs)

    def test_opening_sets_the_nearest_due_and_the_earliest_warning(self):
        self.assertEqual(self.columns(), (at(60), at(45)))
        # The ticket the action returned carries them too (the insert wrote them).
        self.assertEqual((self.ticket.sla_due_at, self.ticket.sla_warn_at), (at(60), at(45)))

    def test_a_ticket_no_policy_governs_has_none(self):
        Policy.objects.update(kind="request")
        with time_machine.travel(T0, tick=False):
            ticket = self.open_ticket(self.carol, title="Not measured")
        row = Ticket.objects.get(pk=ticket.pk)
        self.assertEqual((row.sla_due_at, row.sla_warn_at), (None, None))

    def test_the_first_public_reply_moves_the_due_time_to_resolution(self):
        self.move(20, desk.add_comment, "Looking into it.")
        self.assertEqual(self.columns(), (at(480), at(360)))

    def test_an_internal_note_changes_nothing(self):
        self.move(20, desk.add_comment, "Note to self.", is_public=False)
        self.assertEqual(self.columns(), (at(60), at(45)))

    def test_pause_clears_them_and_resume_sets_them_from_what_is_left(self):
        self.move(20, desk.add_comment, "Looking into it.")
        self.move(60, desk.transition, "pending")
        self.assertEqual(self.columns(), (None, None))
        # The customer answers two hours later: 7 h of resolution left, next update 30 min.
        with time_machine.travel(at(180), tick=False):
            desk.add_comment(self.carol, Ticket.objects.get(pk=self.ticket.pk), "Here it is.")
        self.assertEqual(self.columns(), (at(210), at(180 + 22.5)))
        self.move(190, desk.add_comment, "Thanks, trying that.")
        self.assertEqual(self.columns(), (at(180 + 420), at(180 + 300)))

    def test_a_breach_keeps_the_ticket_due_in_the_past_until_it_is_met(self):
        sweep.sweep(at(61))
        self.assertEqual(
            Clock.objects.get(ticket=self.ticket, metric=Metric.FIRST_RESPONSE).state,
            Clock.State.BREACHED,
        )
        self.assertEqual(self.columns(), (at(60), at(45)))
        self.move(90, desk.add_comment, "Sorry for the wait.")  # meets the breached clock
        self.assertEqual(self.columns(), (at(480), at(360)))

    def test_a_breached_clock_waiting_on_the_customer_is_not_active(self):
        sweep.sweep(at(61))
        self.move(70, desk.transition, "pending")
        self.assertEqual(self.columns(), (None, None))
        self.move(80, desk.transition, "open")
        self.assertEqual(self.columns()[0], at(60))  # breached again, as before

    def test_resolution_clears_them_and_reopening_brings_them_back(self):
        self.move(20, desk.add_comment, "Fixed.")
        self.move(30, desk.transition, "resolved")
        self.assertEqual(self.columns(), (None, None))
        self.move(60, desk.transition, "open")
        self.assertEqual(self.columns(), (at(60 + 450), at(60 + 330)))  # 30 min were spent

    def test_cancelling_clears_them(self):
        self.move(30, desk.transition, "cancelled")
        self.assertEqual(self.columns(), (None, None))

    def test_a_priority_change_recomputes_them(self):
        self.move(10, desk.set_priority, 1, "Whole site down")
        self.assertEqual(self.columns(), (at(30), at(22.5)))  # P1: 30 min response

    def test_a_policy_edit_recomputes_open_tickets_and_their_columns(self):
        targets = [
            {"priority": 3, "metric": "first_response", "minutes": 120},
            {"priority": 3, "metric": "resolution", "minutes": 600},
        ]
        with (
            time_machine.travel(at(30), tick=False),
            self.captureOnCommitCallbacks(execute=True),
        ):
            sla.update_policy(self.root, self.policy, targets=targets, warn_percent=50)
        self.assertEqual(self.columns(), (at(120), at(60)))

    def test_a_policy_switched_off_leaves_no_due_time(self):
        self.policy.active = False
        self.policy.save()
        recompute_all(everything=True, now=at(30))
        self.assertEqual(self.columns(), (None, None))

    def test_the_batch_recompute_writes_only_what_moved(self):
        Target.objects.filter(priority=3, metric=Metric.FIRST_RESPONSE).update(minutes=90)
        recompute_all(everything=True, now=at(30))
        self.assertEqual(self.columns(), (at(90), at(67.5)))

    def test_the_migration_fills_the_columns_from_the_clocks(self):
        sweep.sweep(at(61))
        with time_machine.travel(T0, tick=False):
            waiting = self.open_ticket(self.carol, title="Waiting")
        with time_machine.travel(at(5), tick=False):
            desk.transition(self.alice, waiting, "pending")
        migration = importlib.import_module("sustain.desk.migrations.0005_ticket_sla_next_due")
        expected = {t.pk: (t.sla_due_at, t.sla_warn_at) for t in Ticket.objects.all()}
        Ticket.objects.update(sla_due_at=at(-999), sla_warn_at=None)
        Ticket.objects.filter(pk=waiting.pk).update(sla_due_at=None)
        migration.backfill(None, SimpleNamespace(connection=connection))  # its own statement
        self.assertEqual(
            {t.pk: (t.sla_due_at, t.sla_warn_at) for t in Ticket.objects.all()},
            {**expected, waiting.pk: (None, None)},
        )
        self.assertEqual(expected[self.ticket.pk], (at(60), at(45)))
