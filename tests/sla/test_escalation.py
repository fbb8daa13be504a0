"""Escalation rules with levels fire once per ticket and cycle, on the timeline."""

from datetime import UTC, datetime, timedelta

import time_machine

from sustain.core.models import Event, OutboxMessage
from sustain.desk import actions as desk
from sustain.sla import escalation, sweep
from sustain.sla.models import Calendar, EscalationFiring, Metric, Policy, Target
from tests.base import SustainTestCase

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class EscalationTests(SustainTestCase):
    def setUp(self):
        self.api_root = self.api(self.root)
        self.office = Calendar.objects.create(
            name="Office",
            hours={d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        )
        policy = Policy.objects.create(name="Standard", calendar=self.office)
        Target.objects.create(policy=policy, priority=3, metric=Metric.FIRST_RESPONSE, minutes=60)

    def rule(self, **fields):
        response = self.api_root.post("/api/v1/sla/escalation-rules", fields)
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()

    def open(self, when=MONDAY_9, **fields):
        with time_machine.travel(when, tick=False):
            return self.open_ticket(self.carol, **fields)

    def test_breach_escalates_in_two_levels_each_once(self):
        self.rule(
            name="Breach",
            condition="sla_breach",
            urgent=True,
            levels=[
                {"delay_minutes": 0, "actions": [{"do": "reassign", "team": "service-desk"}]},
                {
                    "delay_minutes": 30,
                    "actions": [{"do": "notify", "who": "team_lead"}, {"do": "raise_priority"}],
                },
            ],
        )
        ticket = self.open()
        sweep.sweep(MONDAY_9 + timedelta(minutes=61))
        self.assertEqual(escalation.escalate_due(MONDAY_9 + timedelta(minutes=62)), 1)
        self.assertEqual(escalation.escalate_due(MONDAY_9 + timedelta(minutes=63)), 0)
        ticket.refresh_from_db()
        self.assertEqual(ticket.team, self.service_desk)
        self.assertEqual(escalation.escalate_due(MONDAY_9 + timedelta(minutes=95)), 1)
        ticket.refresh_from_db()
        self.assertEqual(ticket.priority, 2)
        escalated = Event.objects.filter(target_id=ticket.pk, verb="escalated").order_by("id")
        self.assertEqual([e.after["level"] for e in escalated], [1, 2])
        self.assertIn("notified Alice Agent", escalated[1].after["actions"])
        self.assertEqual(EscalationFiring.objects.count(), 2)

    def test_unassigned_for_n_minutes(self):
        self.rule(
            name="Unassigned",
            condition="unassigned",
            minutes=20,
            urgent=True,
            levels=[{"actions": [{"do": "notify", "who": "managers"}]}],
        )
        ticket = self.open()
        self.assertEqual(escalation.escalate_due(MONDAY_9 + timedelta(minutes=19)), 0)
        self.assertEqual(escalation.escalate_due(MONDAY_9 + timedelta(minutes=21)), 1)
        assigned = self.open(title="Another")
        with time_machine.travel(MONDAY_9 + timedelta(minutes=5), tick=False):
            desk.assign(self.alice, assigned, team=self.service_desk, assignee=self.alice)
        self.assertEqual(escalation.escalate_due(MONDAY_9 + timedelta(minutes=40)), 0)
        self.assertTrue(Event.objects.filter(target_id=ticket.pk, verb="escalated").exists())
        self.assertFalse(Event.objects.filter(target_id=assigned.pk, verb="escalated").exists())

    def test_no_agent_update_fires_again_after_a_new_silence(self):
        self.rule(
            name="Silence",
            condition="no_agent_update",
            minutes=60,
            urgent=True,
            levels=[{"actions": [{"do": "notify", "who": "assignee"}]}],
        )
        ticket = self.open()
        self.assertEqual(escalation.escalate_due(MONDAY_9 + timedelta(minutes=61)), 1)
        with time_machine.travel(MONDAY_9 + timedelta(minutes=90), tick=False):
            desk.add_comment(self.alice, ticket, "Still looking.")
        self.assertEqual(escalation.escalate_due(MONDAY_9 + timedelta(minutes=100)), 0)
        self.assertEqual(escalation.escalate_due(MONDAY_9 + timedelta(minutes=151)), 1)

    def test_p1_opened_pages_nobody_without_a_schedule_but_still_records_it(self):
        with time_machine.travel(MONDAY_9 - timedelta(days=1), tick=False):  # only later P1s count
            self.rule(
                name="P1",
                condition="p1_opened",
                urgent=True,
                levels=[{"actions": [{"do": "page"}]}],
            )
        ticket = self.open(impact=1, urgency=1)
        self.assertEqual(escalation.escalate_due(MONDAY_9 + timedelta(minutes=1)), 1)
        event = Event.objects.get(target_id=ticket.pk, verb="escalated")
        self.assertEqual(event.after["actions"], ["nobody on call"])

    def test_non_urgent_notifications_wait_for_working_hours(self):
        self.rule(
            name="Quiet",
            condition="unassigned",
            minutes=10,
            levels=[{"actions": [{"do": "notify", "who": "managers"}]}],
        )
        friday_evening = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
        self.open(when=friday_evening)
        self.assertEqual(escalation.escalate_due(friday_evening + timedelta(minutes=11)), 1)
        held = OutboxMessage.objects.filter(payload__subject__startswith="Escalation")
        self.assertTrue(held.exists())
        self.assertEqual(
            {m.next_attempt_at for m in held}, {datetime(2026, 11, 30, 9, 0, tzinfo=UTC)}
        )

    def test_a_rule_with_an_unknown_action_is_refused(self):
        response = self.api_root.post(
            "/api/v1/sla/escalation-rules",
            {
                "name": "Bad",
                "condition": "sla_breach",
                "levels": [{"actions": [{"do": "explode"}]}],
            },
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "levels.0.actions.0.do")
