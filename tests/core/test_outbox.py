"""The outbox: messages written with the change, delivered once, retried with backoff, and
given up on after MAX_ATTEMPTS."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.core import mail
from django.db import transaction
from django.test import TestCase

from sustain.core import outbox
from sustain.core.models import OutboxMessage
from sustain.notifications import mailing

T0 = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


class Recorder:
    """A handler that records payloads and fails the first `failures` calls."""

    def __init__(self, failures: int = 0):
        self.failures = failures
        self.delivered: list[dict] = []

    def __call__(self, payload: dict) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("SMTP server said no")
        self.delivered.append(payload)


class OutboxTests(TestCase):
    def setUp(self):
        self.handler = Recorder()
        outbox.HANDLERS["test"] = self.handler
        self.addCleanup(outbox.HANDLERS.pop, "test")

    def enqueue(self, payload=None, **kwargs) -> OutboxMessage:
        outbox.enqueue("test", payload or {"n": 1}, **kwargs)
        return OutboxMessage.objects.order_by("-id").first()

    def test_a_message_is_delivered_once(self):
        with time_machine.travel(T0, tick=False):
            message = self.enqueue({"hello": "world"})
            self.assertEqual(outbox.deliver_due(), 1)
            self.assertEqual(outbox.deliver_due(), 0)
        self.assertEqual(self.handler.delivered, [{"hello": "world"}])
        message.refresh_from_db()
        self.assertEqual(message.state, OutboxMessage.State.SENT)
        self.assertEqual((message.attempts, message.sent_at), (1, T0))

    def test_the_worker_is_woken_when_the_transaction_commits(self):
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            self.enqueue()
        self.assertEqual(self.handler.delivered, [])
        self.assertEqual(len(callbacks), 1)
        callbacks[0]()  # the test settings run Huey tasks immediately
        self.assertEqual(self.handler.delivered, [{"n": 1}])

    def test_nothing_is_sent_when_the_change_is_rolled_back(self):
        with self.assertRaises(RuntimeError), transaction.atomic():
            self.enqueue()
            raise RuntimeError("the action failed")
        self.assertFalse(OutboxMessage.objects.exists())

    def test_a_failed_delivery_is_retried_after_a_growing_backoff(self):
        self.handler.failures = 3
        with time_machine.travel(T0, tick=False):
            message = self.enqueue()
            outbox.deliver_due()
        message.refresh_from_db()
        self.assertEqual(message.state, OutboxMessage.State.PENDING)
        self.assertEqual(message.attempts, 1)
        self.assertEqual(message.next_attempt_at, T0 + timedelta(seconds=30))
        self.assertEqual(message.last_error, "ConnectionError: SMTP server said no")

        # Not due yet: nothing happens.
        self.assertEqual(outbox.deliver_due(T0 + timedelta(seconds=29)), 0)
        message.refresh_from_db()
        self.assertEqual(message.attempts, 1)

        now = T0 + timedelta(seconds=30)
        outbox.deliver_due(now)
        message.refresh_from_db()
        self.assertEqual(message.next_attempt_at, now + timedelta(minutes=1))
        now += timedelta(minutes=1)
        outbox.deliver_due(now)
        message.refresh_from_db()
        self.assertEqual(message.next_attempt_at, now + timedelta(minutes=2))
        now += timedelta(minutes=2)
        with time_machine.travel(now, tick=False):
            self.assertEqual(outbox.deliver_due(now), 1)
        message.refresh_from_db()
        self.assertEqual((message.state, message.attempts), (OutboxMessage.State.SENT, 4))
        self.assertEqual(message.last_error, "")
        self.assertEqual(self.handler.delivered, [{"n": 1}])

    def test_backoff_doubles_and_is_capped_at_two_hours(self):
        self.assertEqual(
            [outbox.backoff(n).total_seconds() for n in range(1, 10)],
            [30, 60, 120, 240, 480, 960, 1920, 3840, 7200],
        )
        self.assertEqual(outbox.backoff(50), timedelta(hours=2))

    def test_a_message_is_dead_after_max_attempts(self):
        self.handler.failures = 100
        now = T0
        with time_machine.travel(T0, tick=False):
            message = self.enqueue()
        for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
            self.assertEqual(outbox.deliver_due(now), 0)
            message.refresh_from_db()
            self.assertEqual(message.attempts, attempt)
            now = message.next_attempt_at
        self.assertEqual(message.state, OutboxMessage.State.DEAD)
        self.assertEqual(message.attempts, outbox.MAX_ATTEMPTS)
        # A dead message is never tried again.
        outbox.deliver_due(now + timedelta(days=30))
        message.refresh_from_db()
        self.assertEqual(message.attempts, outbox.MAX_ATTEMPTS)
        self.assertEqual(self.handler.failures, 100 - outbox.MAX_ATTEMPTS)

    def test_only_one_of_two_workers_claims_a_message(self):
        message = self.enqueue()
        due = message.next_attempt_at
        self.assertTrue(outbox.claim(message.pk, due, T0))
        self.assertFalse(outbox.claim(message.pk, due, T0))
        message.refresh_from_db()
        self.assertEqual(message.attempts, 1)
        self.assertEqual(message.next_attempt_at, T0 + outbox.LEASE)

    def test_a_worker_holding_a_stale_copy_does_not_deliver_again(self):
        message = self.enqueue()
        stale = OutboxMessage.objects.get(pk=message.pk)
        self.assertTrue(outbox.deliver_one(message))
        self.assertFalse(outbox.deliver_one(stale))
        self.assertEqual(len(self.handler.delivered), 1)

    def test_a_message_whose_worker_died_is_taken_again_after_the_lease(self):
        with time_machine.travel(T0, tick=False):
            message = self.enqueue()
            self.assertTrue(outbox.claim(message.pk, message.next_attempt_at, T0))  # then dies
        self.assertEqual(outbox.deliver_due(T0 + outbox.LEASE - timedelta(seconds=1)), 0)
        self.assertEqual(outbox.deliver_due(T0 + outbox.LEASE), 1)
        self.assertEqual(len(self.handler.delivered), 1)

    def test_a_dedupe_key_enqueues_once(self):
        self.enqueue({"n": 1}, dedupe_key="ticket-created:42")
        self.enqueue({"n": 2}, dedupe_key="ticket-created:42")
        self.enqueue({"n": 3}, dedupe_key="ticket-created:43")
        self.assertEqual(OutboxMessage.objects.count(), 2)
        outbox.deliver_due()
        self.assertEqual(self.handler.delivered, [{"n": 1}, {"n": 3}])

    def test_a_duplicate_inside_a_transaction_does_not_break_it(self):
        with transaction.atomic():
            self.enqueue(dedupe_key="k")
            self.enqueue(dedupe_key="k")
            self.enqueue(dedupe_key="other")
        self.assertEqual(OutboxMessage.objects.count(), 2)

    def test_not_before_holds_a_message_until_then(self):
        self.enqueue(not_before=T0 + timedelta(hours=8))
        self.assertEqual(outbox.deliver_due(T0), 0)
        self.assertEqual(outbox.deliver_due(T0 + timedelta(hours=8)), 1)

    def test_nothing_is_enqueued_while_paused(self):
        with outbox.paused():
            self.enqueue()
        self.assertFalse(OutboxMessage.objects.exists())
        self.enqueue()
        self.assertEqual(OutboxMessage.objects.count(), 1)


class EmailNotificationTests(TestCase):
    def test_one_message_per_distinct_recipient_delivered_as_email(self):
        mailing.email(
            ["b@x.test", "a@x.test", "b@x.test", ""],
            "desk/mail/ticket_created",
            {
                "ticket": type(
                    "T",
                    (),
                    {
                        "key": "INC-1",
                        "title": "T",
                        "get_kind_display": "incident",
                        "get_priority_display": "P1 critical",
                    },
                )(),
                "status_words": "Received.",
            },
            dedupe_key="t:1",
            headers={"X-Sustain-Ticket": "INC-1"},
        )
        self.assertEqual(OutboxMessage.objects.count(), 2)
        outbox.deliver_due()
        self.assertEqual(sorted(m.to[0] for m in mail.outbox), ["a@x.test", "b@x.test"])
        self.assertEqual(mail.outbox[0].subject, "[INC-1] T")
        self.assertEqual(
            mail.outbox[0].extra_headers,
            {"X-Sustain-Ticket": "INC-1", "Auto-Submitted": "auto-generated"},
        )
