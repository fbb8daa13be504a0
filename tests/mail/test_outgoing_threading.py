"""Mail about a ticket carries headers that bring replies back to it."""

from django.core import mail

from sustain.core import outbox
from sustain.desk import actions as desk
from sustain.mail import threads
from sustain.mail.models import MessageRef
from tests.base import SustainTestCase


class OutgoingThreadingTests(SustainTestCase):
    def test_notifications_carry_message_ids_and_continue_the_thread(self):
        with self.captureOnCommitCallbacks(execute=True):
            ticket = self.open_ticket(self.carol)
        with self.captureOnCommitCallbacks(execute=True):
            desk.add_comment(self.alice, ticket, "On it.")
        outbox.deliver_due()
        created, reply = mail.outbox[0], mail.outbox[-1]
        first_id = created.extra_headers["Message-ID"].strip("<>")
        self.assertTrue(first_id.startswith(f"sustain.{ticket.key.lower()}."))
        self.assertEqual(reply.extra_headers["In-Reply-To"], f"<{first_id}>")
        self.assertIn(f"[{ticket.key}]", reply.subject)
        self.assertEqual(threads.ticket_for([first_id]), ticket)
        self.assertEqual(MessageRef.objects.filter(ticket=ticket, direction="out").count(), 2)

    def test_unknown_message_ids_find_no_ticket(self):
        self.assertIsNone(threads.ticket_for(["nobody@example.com"]))
        self.assertIsNone(threads.ticket_for([]))
