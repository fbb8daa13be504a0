"""Which webhook events the desk's actions and the SLA engine emit, to whom, in their
transaction, once per event and subscription."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import time_machine
from django.db import transaction

from sustain.core.models import OutboxMessage
from sustain.desk import actions as desk
from sustain.desk.models import Status
from sustain.hooks import actions as hooks
from sustain.hooks.models import Subscription
from sustain.hooks.schemas import WebhookEvent
from sustain.sla import escalation, sweep
from sustain.sla.models import Calendar, EscalationRule, Metric, Policy, Target
from tests.base import SustainTestCase

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class WebhookEventTests(SustainTestCase):
    def subscribe(self, name: str = "All", **fields) -> Subscription:
        fields.setdefault("url", f"https://hooks.example.test/{name.lower()}")
        subscription, _ = hooks.create_subscription(self.alice, name=name, **fields)
        return subscription

    def events(self, subscription: Subscription | None = None) -> list[WebhookEvent]:
        messages = OutboxMessage.objects.filter(kind="webhook").order_by("id")
        if subscription is not None:
            messages = messages.filter(payload__subscription=subscription.pk)
        return [WebhookEvent.model_validate(json.loads(m.payload["body"])) for m in messages]

    def types(self, subscription: Subscription | None = None) -> list[str]:
        return [e.type for e in self.events(subscription)]

    def test_each_desk_action_emits_its_event_with_what_changed(self):
        everything = self.subscribe()
        ticket = self.open_ticket(self.carol, title="Exports fail")
        desk.assign(self.alice, ticket, team=self.service_desk, assignee=self.bob)
        desk.add_comment(self.bob, ticket, "Looking at the export job.")
        desk.transition(self.bob, ticket, Status.PENDING, reason="Which file?")
        desk.update_ticket(self.bob, ticket, title="Exports fail for CSV", tags=["export"])
        desk.set_priority(self.alice, ticket, 1, "Month-end close")
        self.assertEqual(
            self.types(everything),
            [
                "ticket.created",
                "ticket.status_changed",  # new -> open, by the assignment
                "ticket.assigned",
                "comment.created",
                "ticket.status_changed",
                "comment.created",  # the reason given with the status
                "ticket.updated",  # title
                "ticket.updated",  # tags
                "ticket.updated",  # priority
            ],
        )
        found = self.events(everything)
        assigned = found[2]
        assert assigned.changes is not None and assigned.ticket is not None
        self.assertEqual(set(assigned.changes), {"team", "assignee"})
        self.assertEqual(assigned.changes["assignee"].after, "Bob Teammate")
        self.assertEqual(assigned.ticket.assignee, self.bob.email)
        self.assertEqual(assigned.ticket.team, "service-desk")
        pending = found[4]
        assert pending.changes is not None
        self.assertEqual(
            (pending.changes["status"].before, pending.changes["status"].after), ("open", "pending")
        )
        comment = found[3].comment
        assert comment is not None and comment.author is not None
        self.assertEqual(
            (comment.body, comment.author.email), ("Looking at the export job.", self.bob.email)
        )
        priority = found[8]
        assert priority.changes is not None and priority.ticket is not None
        self.assertEqual(priority.changes["priority"].after, 1)
        self.assertEqual(priority.ticket.tags, ["export"])
        # Each event has one id, shared by every subscription told of it.
        self.assertEqual(len({e.id for e in found}), len(found))

    def test_internal_notes_go_only_to_staff_level_subscriptions(self):
        public_only = self.subscribe("Public", events=["comment.created"])
        staff = self.subscribe("Staff", events=["comment.created"], include_internal=True)
        ticket = self.open_ticket(self.carol)
        desk.add_comment(self.alice, ticket, "Customer's DB password is hunter2", is_public=False)
        desk.add_comment(self.alice, ticket, "Fixed.")
        self.assertEqual([e.comment.body for e in self.events(public_only)], ["Fixed."])  # type: ignore[union-attr]
        bodies = [e.comment.body for e in self.events(staff)]  # type: ignore[union-attr]
        self.assertEqual(bodies, ["Customer's DB password is hunter2", "Fixed."])

    def test_an_organization_filter_and_an_event_filter_choose_what_is_sent(self):
        acme = self.subscribe("Acme", organization=self.acme)
        globex_comments = self.subscribe(
            "Globex", organization=self.globex, events=["comment.created"]
        )
        everyone = self.subscribe("Everyone")
        acme_ticket = self.open_ticket(self.carol)
        globex_ticket = self.open_ticket(self.dave)
        desk.add_comment(self.dave, globex_ticket, "Any news?")
        self.assertEqual(
            [e.ticket.key for e in self.events(acme)],  # type: ignore[union-attr]
            [acme_ticket.key],
        )
        self.assertEqual(self.types(globex_comments), ["comment.created"])
        self.assertEqual(len(self.events(everyone)), 3)

    def test_inactive_subscriptions_hear_nothing(self):
        subscription = self.subscribe()
        hooks.update_subscription(self.alice, subscription, active=False)
        self.open_ticket(self.carol)
        self.assertEqual(self.types(), [])

    def test_nothing_is_queued_when_the_action_is_rolled_back(self):
        self.subscribe()
        with self.assertRaises(RuntimeError), transaction.atomic():
            self.open_ticket(self.carol)
            raise RuntimeError("the action failed after writing")
        self.assertEqual(self.types(), [])

    def test_one_event_is_queued_once_per_subscription_under_its_delivery_key(self):
        first, second = self.subscribe("First"), self.subscribe("Second")
        ticket = self.open_ticket(self.carol)
        # The same event emitted again (an action retried) queues nothing new.
        key = OutboxMessage.objects.filter(kind="webhook").first().payload["event_id"]
        self.assertEqual(
            hooks.emit("ticket.created", ticket, key=key.split(":", 1)[1], actor=self.carol), 2
        )
        messages = OutboxMessage.objects.filter(kind="webhook")
        self.assertEqual(messages.count(), 2)
        self.assertEqual(
            {m.dedupe_key for m in messages},
            {f"webhook:{first.pk}:{key}", f"webhook:{second.pk}:{key}"},
        )
        self.assertEqual(len({m.payload["delivery"] for m in messages}), 2)

    def test_sla_warning_breach_and_escalation_are_emitted_once(self):
        sla = self.subscribe("SLA", events=["sla.warning", "sla.breached", "ticket.escalated"])
        calendar = Calendar.objects.create(name="24x7", always=True)
        policy = Policy.objects.create(name="Standard", calendar=calendar)
        Target.objects.create(policy=policy, priority=3, metric=Metric.FIRST_RESPONSE, minutes=60)
        EscalationRule.objects.create(
            name="Breach", condition="sla_breach", urgent=True
        ).levels.create(level=1, delay_minutes=0, actions=[{"do": "notify", "who": "managers"}])
        with time_machine.travel(MONDAY_9, tick=False):
            ticket = self.open_ticket(self.carol)
        sweep.sweep(MONDAY_9 + timedelta(minutes=46))
        sweep.sweep(MONDAY_9 + timedelta(minutes=61))
        sweep.sweep(MONDAY_9 + timedelta(minutes=62))  # nothing new
        escalation.escalate_due(MONDAY_9 + timedelta(minutes=63))
        escalation.escalate_due(MONDAY_9 + timedelta(minutes=64))
        found = self.events(sla)
        self.assertEqual(
            [e.type for e in found], ["sla.warning", "sla.breached", "ticket.escalated"]
        )
        warning, breached, escalated = found
        assert warning.sla is not None and breached.sla is not None
        self.assertEqual(warning.sla.metric, "first_response")
        self.assertEqual(warning.sla.due_at, MONDAY_9 + timedelta(minutes=60))
        self.assertEqual(breached.sla.state, "breached")
        self.assertIsNone(breached.actor)
        assert escalated.escalation is not None and escalated.ticket is not None
        self.assertEqual((escalated.escalation.rule, escalated.escalation.level), ("Breach", 1))
        self.assertEqual(escalated.ticket.key, ticket.key)
