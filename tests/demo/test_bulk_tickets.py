"""`sustain demo --tickets N`: the generated tickets' comments never claim a mail they lack."""

from __future__ import annotations

from django.test import TestCase

from sustain.accounts.models import User
from sustain.demo.tickets import bulk_tickets
from sustain.desk.models import Comment, Ticket
from sustain.sla.models import Clock, Policy
from tests.demo.test_world import by_mail_links


class BulkTicketTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        bulk_tickets(40, progress=False)  # into the demo world, loaded first (20 tickets)

    def test_every_by_email_link_on_generated_tickets_answers(self):
        self.client.force_login(User.objects.get(email="alice@sustain.localhost"))
        generated = Ticket.objects.order_by("-id")[:40]
        links = by_mail_links(self.client, generated)
        for link in links:
            self.assertEqual(self.client.get(link, follow=True).status_code, 200, link)
        self.assertFalse(
            Comment.objects.filter(channel="email", inbound_mail__isnull=True).exists()
        )

    def test_generated_clocks_follow_the_policy_for_every_customer(self):
        standard = Policy.objects.get(name="Standard (office hours)")
        newest = Ticket.objects.order_by("-id")[:40]
        self.assertEqual(
            set(Clock.objects.filter(ticket__in=newest).values_list("policy", flat=True)),
            {standard.pk},
        )
