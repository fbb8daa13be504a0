from django.core import mail

from sustain.core import outbox
from sustain.core.errors import Forbidden, Invalid
from sustain.core.models import Event
from sustain.desk.models import Priority, Status
from tests.base import SustainTestCase


class OpenTicketTests(SustainTestCase):
    def test_customer_opens_an_incident_for_their_organization(self):
        ticket = self.open_ticket(self.carol, impact=1, urgency=1, affected_ci=self.acme_prod)
        self.assertRegex(ticket.key, r"^INC-\d+$")
        self.assertEqual(ticket.organization, self.acme)
        self.assertEqual(ticket.requester, self.carol)
        self.assertEqual(ticket.priority, Priority.P1)
        self.assertEqual(ticket.status, Status.NEW)

    def test_keys_count_up_per_kind(self):
        first = self.open_ticket()
        second = self.open_ticket()
        request = self.open_ticket(kind="request")
        self.assertEqual(int(second.key.split("-")[1]), int(first.key.split("-")[1]) + 1)
        self.assertTrue(request.key.startswith("REQ-"))

    def test_priority_comes_from_the_matrix_unless_an_agent_overrides_with_a_reason(self):
        ticket = self.open_ticket(self.alice, organization=self.acme, impact=3, urgency=3)
        self.assertEqual(ticket.priority, Priority.P4)
        with self.assertRaises(Invalid) as refused:
            self.open_ticket(self.alice, organization=self.acme, impact=3, urgency=3, priority=1)
        self.assertEqual(refused.exception.errors[0]["field"], "priority_reason")
        overridden = self.open_ticket(
            self.alice,
            organization=self.acme,
            impact=3,
            urgency=3,
            priority=1,
            priority_reason="CEO's demo tomorrow",
        )
        self.assertEqual(overridden.priority, Priority.P1)
        self.assertEqual(overridden.priority_reason, "CEO's demo tomorrow")

    def test_customer_cannot_set_priority_or_open_for_another_organization(self):
        with self.assertRaises(Forbidden):
            self.open_ticket(self.carol, priority=1, priority_reason="now")
        with self.assertRaises(Invalid):
            self.open_ticket(self.carol, organization=self.globex)

    def test_affected_item_must_belong_to_the_ticket_organization(self):
        with self.assertRaises(Invalid) as refused:
            self.open_ticket(self.carol, affected_ci=self.globex_prod)
        self.assertEqual(refused.exception.errors[0]["field"], "affected_ci")

    def test_creation_is_on_the_timeline_and_the_requester_is_mailed(self):
        with self.captureOnCommitCallbacks(execute=True):
            ticket = self.open_ticket(self.carol, watchers=[self.cathy])
        event = Event.objects.get(target_type="desk.ticket", target_id=ticket.pk, verb="created")
        self.assertEqual(event.actor, self.carol)
        self.assertEqual(event.after["status"], "new")
        outbox.deliver_due()
        recipients = sorted(m.to[0] for m in mail.outbox)
        self.assertEqual(recipients, ["carol@acme.test", "cathy@acme.test"])
        self.assertIn(ticket.key, mail.outbox[0].subject)

    def test_markdown_description_is_sanitised_when_shown(self):
        from sustain.core.text import render_markdown

        html = render_markdown("**bold** <script>alert(1)</script> [x](javascript:alert(1))")
        self.assertIn("<strong>bold</strong>", html)
        self.assertNotIn("<script", html)
        self.assertNotIn("javascript:", html)
