"""The desk's mails are one outbox row per moment, rendered and fanned out by the worker.

The worker path is the real one: `core.tasks.deliver_outbox` (what the worker runs when woken)
takes the notification row, renders each recipient's mail, routes it by their preferences and
sends it in the same pass.
"""

from __future__ import annotations

from django.core import mail
from django.test import override_settings
from django.utils.translation import gettext_lazy

from sustain.core.models import OutboxMessage
from sustain.core.tasks import deliver_outbox
from sustain.desk import actions as desk
from sustain.desk.models import Status
from sustain.mail.models import MessageRef
from sustain.notifications import actions as notifications
from sustain.notifications import context
from sustain.notifications.models import DigestItem
from tests.base import SustainTestCase


class WorkerRendersTheNotificationTests(SustainTestCase):
    def test_the_action_writes_one_row_and_the_worker_sends_each_recipient_their_mail(self):
        ticket = self.open_ticket(self.alice, organization=self.acme, requester=self.carol)
        rows = OutboxMessage.objects.all()
        self.assertEqual([m.kind for m in rows], ["notification"])
        self.assertFalse(MessageRef.objects.filter(ticket=ticket).exists())  # nothing rendered
        self.assertEqual(mail.outbox, [])

        deliver_outbox()

        (sent,) = mail.outbox
        self.assertEqual(sent.to, [self.carol.email])
        self.assertEqual(sent.subject, f"[{ticket.key}] {ticket.title}")
        self.assertIn("We have received your incident", sent.body)
        self.assertEqual(sent.extra_headers["X-Sustain-Ticket"], ticket.key)
        self.assertIn("+", sent.extra_headers["Reply-To"])  # her signed reply address
        ref = MessageRef.objects.get(ticket=ticket)
        self.assertEqual(sent.extra_headers["Message-ID"], f"<{ref.message_id}>")
        states = dict(OutboxMessage.objects.values_list("kind", "state"))
        self.assertEqual(states, {"notification": "sent", "email": "sent"})

    def test_the_mail_tells_the_ticket_as_it_was_at_the_moment(self):
        ticket = self.open_ticket(self.alice, organization=self.acme, requester=self.carol)
        desk.transition(self.alice, ticket, Status.OPEN)  # before the worker gets to it
        deliver_outbox()
        created = next(m for m in mail.outbox if "received" in m.body)
        self.assertIn("Received: we will look at it shortly.", created.body)

    def test_preferences_are_read_by_the_worker_digest_and_off(self):
        notifications.update_preferences(self.cathy, self.cathy, ticket_created="digest")
        notifications.update_preferences(self.carol, self.carol, ticket_created="off")
        ticket = self.open_ticket(self.carol, watchers=[self.cathy])
        deliver_outbox()
        self.assertEqual(mail.outbox, [])
        item = DigestItem.objects.get(user=self.cathy)
        self.assertEqual((item.ticket, item.subject), (ticket, f"[{ticket.key}] {ticket.title}"))

    def test_a_notification_delivered_twice_queues_each_mail_once(self):
        self.open_ticket(self.carol, watchers=[self.cathy])
        row = OutboxMessage.objects.get(kind="notification")
        from sustain.notifications import mailing

        mailing.fan_out(row.payload)
        mailing.fan_out(row.payload)  # a worker that died after fanning out, run again
        self.assertEqual(OutboxMessage.objects.filter(kind="email").count(), 2)

    @override_settings(MAIL_REPLY_TOKENS=False)
    def test_a_deactivated_recipient_is_told_nothing(self):
        self.open_ticket(self.carol, watchers=[self.cathy])
        self.cathy.is_active = False
        self.cathy.save()
        deliver_outbox()
        self.assertEqual([m.to for m in mail.outbox], [[self.carol.email]])


class ContextTests(SustainTestCase):
    def test_references_snapshots_and_lazy_texts_travel_as_json(self):
        ticket = self.open_ticket(self.carol, title="Printer on fire")
        encoded = {
            "ticket": context.encode(ticket, snapshot=True),
            "actor": context.encode(self.alice),
            "words": context.encode(gettext_lazy("Closed.")),
            "many": context.encode([self.bob, "x", 3]),
        }
        ticket.title = "changed after"
        decoded = {k: context.decode(v) for k, v in encoded.items()}
        self.assertEqual(decoded["ticket"].title, "Printer on fire")
        self.assertEqual(
            (decoded["ticket"].pk, decoded["ticket"].created_at), (ticket.pk, ticket.created_at)
        )
        self.assertEqual(decoded["actor"], self.alice)
        self.assertEqual(str(decoded["words"]), "Closed.")
        self.assertEqual(decoded["many"], [self.bob, "x", 3])
        self.assertNotIn("password", str(encoded["actor"]))

    def test_what_cannot_travel_is_refused_where_it_is_queued(self):
        with self.assertRaises(TypeError):
            context.encode(object())
