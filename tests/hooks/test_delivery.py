"""Webhook deliveries to a real HTTP receiver on 127.0.0.1: signed, retried with backoff,
logged, and a subscription that keeps failing is disabled and its owner told.

The receiver's address is allowed on purpose (SUSTAIN_OUTBOUND_ALLOW_NETWORKS), as an
administrator allows an on-premises receiver; test_ssrf.py covers what is refused without it."""

from __future__ import annotations

import socket
from datetime import timedelta

from django.core import mail
from django.test import override_settings
from django.utils import timezone

from sustain.core import outbox
from sustain.core.models import Event, OutboxMessage
from sustain.hooks import actions as hooks
from sustain.hooks.delivery import signature
from sustain.hooks.models import Delivery, Subscription
from sustain.hooks.schemas import WebhookEvent
from tests.base import SustainTestCase
from tests.hooks.receiver import Receiver, verify

SECRET = "s3cret-for-the-receiver-only"


@override_settings(OUTBOUND_ALLOW_NETWORKS=("127.0.0.1/32",))
class DeliveryTests(SustainTestCase):
    def subscribe(self, url: str, **fields) -> Subscription:
        fields.setdefault("events", ["ticket.created"])
        subscription, _ = hooks.create_subscription(
            self.alice, name="Chat", url=url, secret=SECRET, **fields
        )
        return subscription

    def webhook_messages(self):
        return OutboxMessage.objects.filter(kind="webhook").order_by("id")

    def deliver(self, at=None) -> None:
        outbox.deliver_due(at or timezone.now())

    def test_an_event_arrives_signed_with_the_documented_headers_and_body(self):
        with Receiver(secret=SECRET) as receiver:
            self.subscribe(receiver.url)
            ticket = self.open_ticket(self.carol, title="Invoices are wrong")
            self.deliver()
        [request] = receiver.received
        headers, body = request.headers, request.body
        self.assertEqual(headers["X-Sustain-Event"], "ticket.created")
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertTrue(verify(SECRET, headers, body))
        self.assertEqual(
            headers["X-Sustain-Signature"],
            signature(SECRET, headers["X-Sustain-Timestamp"], body),
        )
        # A receiver rejects a changed body, another secret and an old timestamp (a replay).
        self.assertFalse(verify(SECRET, headers, body + b" "))
        self.assertFalse(verify("another-secret-entirely", headers, body))
        old = int(headers["X-Sustain-Timestamp"]) + 3600
        self.assertFalse(verify(SECRET, headers, body, now=old))

        event = WebhookEvent.model_validate(request.json)  # the documented schema
        self.assertEqual((event.type, event.organization), ("ticket.created", "acme"))
        assert event.ticket is not None and event.actor is not None
        self.assertEqual((event.ticket.key, event.ticket.title), (ticket.key, "Invoices are wrong"))
        self.assertEqual(event.ticket.requester, self.carol.email)
        self.assertEqual(event.actor.email, self.carol.email)

        [logged] = Delivery.objects.all()
        self.assertEqual((logged.status_code, logged.ok, logged.attempt), (200, True, 1))
        self.assertEqual(str(logged.delivery_id), headers["X-Sustain-Delivery"])
        self.assertEqual(logged.response_excerpt, "")  # a success keeps no answer
        self.assertEqual(self.webhook_messages().get().state, OutboxMessage.State.SENT)

    def test_a_receiver_answering_500_twice_gets_it_on_the_third_attempt_after_backoff(self):
        with Receiver(secret=SECRET, script=[500, 500]) as receiver:
            subscription = self.subscribe(receiver.url)
            self.open_ticket(self.carol)
            start = timezone.now()
            self.deliver(start)
            message = self.webhook_messages().get()
            self.assertEqual(message.state, OutboxMessage.State.PENDING)
            self.assertEqual(message.next_attempt_at, start + timedelta(seconds=30))
            self.assertEqual(message.last_error.split(":")[0], "DeliveryFailed")

            self.deliver(start + timedelta(seconds=29))  # not due yet
            self.assertEqual(len(receiver.received), 1)
            self.deliver(start + timedelta(seconds=30))
            message.refresh_from_db()
            self.assertEqual(message.next_attempt_at, start + timedelta(seconds=90))
            self.deliver(start + timedelta(seconds=90))

        self.assertEqual(len(receiver.received), 3)
        self.assertEqual(len({r.delivery for r in receiver.received}), 1)  # one delivery id
        self.assertEqual(len(receiver.acted_on), 1)
        self.assertEqual(receiver.received[0].body, receiver.received[2].body)
        log = list(Delivery.objects.order_by("id").values_list("attempt", "status_code", "ok"))
        self.assertEqual(log, [(1, 500, False), (2, 500, False), (3, 200, True)])
        first = Delivery.objects.order_by("id").first()
        assert first is not None
        self.assertEqual(first.error, "HTTP 500")
        self.assertEqual(first.response_excerpt, '{"status": 500}')  # why it failed
        message.refresh_from_db()
        self.assertEqual((message.state, message.attempts), (OutboxMessage.State.SENT, 3))
        subscription.refresh_from_db()
        self.assertEqual(subscription.consecutive_failures, 0)  # a success resets the count

    @override_settings(WEBHOOK_TIMEOUT=0.5)
    def test_a_receiver_that_never_answers_times_out_and_is_tried_again(self):
        with Receiver(secret=SECRET, script=["hang"]) as receiver:
            subscription = self.subscribe(receiver.url)
            self.open_ticket(self.carol)
            start = timezone.now()
            self.deliver(start)
            [first] = Delivery.objects.all()
            self.assertIsNone(first.status_code)
            self.assertEqual(first.error, "timed out: no answer within 0.5 s")
            self.assertLess(first.duration_ms, 5000)
            subscription.refresh_from_db()
            self.assertEqual(subscription.consecutive_failures, 1)

            self.deliver(start + timedelta(seconds=30))
        self.assertEqual(len(receiver.received), 2)
        self.assertEqual(len(receiver.acted_on), 1)
        self.assertEqual(self.webhook_messages().get().state, OutboxMessage.State.SENT)

    def test_an_unreachable_receiver_is_logged_with_the_kind_of_failure(self):
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        self.subscribe(f"http://127.0.0.1:{port}/nobody")
        self.open_ticket(self.carol)
        self.deliver()
        [logged] = Delivery.objects.all()
        self.assertIsNone(logged.status_code)
        self.assertEqual(logged.error, "connection refused")  # not the socket's own text

    @override_settings(WEBHOOK_FAILURE_LIMIT=3)
    def test_a_subscription_failing_n_times_in_a_row_is_disabled_and_its_owner_told(self):
        with Receiver(secret=SECRET, script=[500, 500, 200, 500, 500, 500]) as receiver:
            subscription = self.subscribe(receiver.url)
            for n in range(6):
                self.open_ticket(self.carol, title=f"Problem {n}")
            mail.outbox.clear()
            self.deliver()  # 500, 500, 200 (resets), 500, 500, 500: disabled at the third
        subscription.refresh_from_db()
        self.assertFalse(subscription.active)
        self.assertEqual(subscription.consecutive_failures, 3)
        self.assertIn("3 failed deliveries in a row", subscription.disabled_reason)
        self.assertTrue(
            Event.objects.filter(
                target_type="hooks.subscription", target_id=subscription.pk, verb="disabled"
            ).exists()
        )
        self.deliver()  # the owner's mail
        told = [m for m in mail.outbox if "Webhook disabled" in m.subject]
        self.assertEqual([m.to for m in told], [[self.alice.email]])
        self.assertIn(f"/webhooks/{subscription.pk}", told[0].body)

        # What is still queued for it is given up at its next attempt, not sent.
        later = timezone.now() + timedelta(hours=3)
        self.deliver(later)
        self.assertEqual(len(receiver.received), 6)
        states = set(self.webhook_messages().values_list("state", "last_error"))
        self.assertIn((OutboxMessage.State.DEAD, "given up: the subscription is disabled"), states)

    def test_enabling_again_starts_the_count_from_zero(self):
        subscription = self.subscribe("https://example.test/hook")
        Subscription.objects.filter(pk=subscription.pk).update(
            active=False, consecutive_failures=10, disabled_reason="10 failed"
        )
        subscription.refresh_from_db()
        hooks.update_subscription(self.alice, subscription, active=True)
        subscription.refresh_from_db()
        self.assertEqual(
            (subscription.active, subscription.consecutive_failures, subscription.disabled_at),
            (True, 0, None),
        )

    def test_messages_of_a_deleted_subscription_are_given_up(self):
        subscription = self.subscribe("https://example.test/hook")
        self.open_ticket(self.carol)
        hooks.delete_subscription(self.alice, subscription)
        self.deliver()
        message = self.webhook_messages().get()
        self.assertEqual(message.state, OutboxMessage.State.DEAD)
        self.assertEqual(message.last_error, "given up: the subscription was deleted")

    def test_a_new_secret_signs_the_next_deliveries(self):
        with Receiver() as receiver:
            subscription = self.subscribe(receiver.url)
            new_secret = hooks.rotate_secret(self.alice, subscription)
            self.open_ticket(self.carol)
            self.deliver()
        [request] = receiver.received
        self.assertTrue(verify(new_secret, request.headers, request.body))
        self.assertFalse(verify(SECRET, request.headers, request.body))
