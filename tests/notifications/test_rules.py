"""Who is told what, for each moment: ticket created, public reply, status changed, assigned,
SLA warning and breach, escalation; and what the mail looks like."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.core import mail
from django.utils import timezone

from sustain.accounts.models import User
from sustain.core import outbox
from sustain.desk import actions as desk
from sustain.desk.models import Status
from sustain.notifications import actions as notifications
from sustain.sla import escalation, sweep
from sustain.sla.models import Calendar, EscalationRule, Metric, Policy, Target
from tests.base import SustainTestCase

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class MailTestCase(SustainTestCase):
    def sent(self) -> list:
        """Deliver what is queued; the mail sent since the last call."""
        outbox.deliver_due(timezone.now() + timedelta(days=1))
        found = list(mail.outbox)
        mail.outbox.clear()
        return found

    def to(self, messages=None) -> list[str]:
        return sorted(m.to[0] for m in (self.sent() if messages is None else messages))

    def prefer(self, user: User, **choices) -> None:
        notifications.update_preferences(user, user, **choices)


class TicketCreatedTests(MailTestCase):
    def test_the_customer_who_opens_it_and_the_watchers_are_told(self):
        ticket = self.open_ticket(self.carol, watchers=[self.cathy])
        messages = self.sent()
        self.assertEqual(self.to(messages), [self.carol.email, self.cathy.email])
        self.assertEqual(messages[0].subject, f"[{ticket.key}] {ticket.title}")
        self.assertIn("We have received your incident", messages[0].body)
        self.assertIn(f"/portal/t/{ticket.key}", messages[0].body)

    def test_organization_contacts_hear_of_every_ticket_of_their_organization(self):
        self.prefer(self.cathy, organization_contact=True)
        self.prefer(self.dave, organization_contact=True)  # another organization's contact
        self.open_ticket(self.carol)
        self.assertEqual(self.to(), [self.carol.email, self.cathy.email])

    def test_contacts_are_not_told_where_customers_see_only_their_own_tickets(self):
        self.prefer(self.cathy, organization_contact=True)
        self.acme.customers_see_all_tickets = False
        self.acme.save()
        self.open_ticket(self.carol, watchers=[self.cathy])
        self.assertEqual(self.to(), [self.carol.email])

    def test_an_agent_opening_for_a_customer_tells_the_customer_and_the_team_not_himself(self):
        ticket = desk.open_ticket(
            self.bob,
            title="Printer on fire",
            requester=self.carol,
            team=self.service_desk,
        )
        messages = self.sent()
        self.assertEqual(self.to(messages), [self.alice.email, self.carol.email])
        agent_mail = next(m for m in messages if m.to == [self.alice.email])
        self.assertIn(f"New incident {ticket.key} for Acme", agent_mail.body)
        self.assertIn(f"/desk/t/{ticket.key}", agent_mail.body)

    def test_the_assignee_is_told_instead_of_the_team(self):
        desk.open_ticket(
            self.bob,
            title="Disk full",
            requester=self.carol,
            team=self.service_desk,
            assignee=self.alice,
        )
        self.assertEqual(self.to(), [self.alice.email, self.carol.email])


class ReplyAndStatusTests(MailTestCase):
    def setUp(self):
        self.ticket = self.open_ticket(self.carol, title="Reports are empty", watchers=[self.cathy])
        desk.assign(self.alice, self.ticket, team=self.service_desk, assignee=self.bob)
        notifications.add_cc(self.carol, self.ticket, ["boss@acme.test"])
        self.sent()

    def test_a_public_reply_tells_everyone_following_but_its_author(self):
        desk.add_comment(self.carol, self.ticket, "It's still empty; see the *attached* note.")
        messages = self.sent()
        self.assertEqual(
            self.to(messages), ["bob@northwind.test", "boss@acme.test", self.cathy.email]
        )
        to_bob = next(m for m in messages if m.to == [self.bob.email])
        self.assertEqual(to_bob.subject, f"Re: [{self.ticket.key}] Reports are empty")
        # Plain text as written (no HTML escaping) and HTML from the Markdown, in one message.
        self.assertIn("It's still empty; see the *attached* note.", to_bob.body)
        [(html, kind)] = to_bob.alternatives
        self.assertEqual(kind, "text/html")
        self.assertIn("<em>attached</em>", html)
        self.assertIn(f"/desk/t/{self.ticket.key}", html)

    def test_an_internal_note_tells_nobody(self):
        desk.add_comment(self.bob, self.ticket, "The cron job died.", is_public=False)
        self.assertEqual(self.sent(), [])

    def test_a_status_change_tells_the_followers_with_the_reason(self):
        desk.transition(self.bob, self.ticket, Status.RESOLVED, reason="Re-ran the import.")
        messages = self.sent()
        self.assertEqual(self.to(messages), ["boss@acme.test", self.carol.email, self.cathy.email])
        to_carol = next(m for m in messages if m.to == [self.carol.email])
        self.assertEqual(to_carol.subject, f"[{self.ticket.key}] Reports are empty (Resolved)")
        self.assertIn("Resolved: reply if the problem is still there.", to_carol.body)
        self.assertIn("Bob Teammate: Re-ran the import.", to_carol.body)

    def test_a_reply_that_moves_the_status_sends_one_mail_not_two(self):
        desk.transition(self.bob, self.ticket, Status.PENDING)
        self.sent()
        desk.add_comment(self.carol, self.ticket, "Here is the export.")  # pending -> open
        messages = self.sent()
        self.assertEqual(self.to(messages), [self.bob.email, "boss@acme.test", self.cathy.email])
        self.assertTrue(all(m.subject.startswith("Re: ") for m in messages))

    def test_mail_about_a_ticket_threads_and_carries_its_key(self):
        desk.add_comment(self.bob, self.ticket, "Fixed.")
        message = next(m for m in self.sent() if m.to == [self.carol.email])
        headers = message.extra_headers
        self.assertTrue(headers["Message-ID"].startswith(f"<sustain.{self.ticket.key.lower()}."))
        self.assertIn("In-Reply-To", headers)
        self.assertIn(headers["In-Reply-To"], headers["References"])
        self.assertEqual(headers["X-Sustain-Ticket"], self.ticket.key)
        self.assertEqual(headers["Auto-Submitted"], "auto-generated")
        self.assertIn(self.ticket.key, message.subject)


class AssignmentTests(MailTestCase):
    def setUp(self):
        self.ticket = self.open_ticket(self.carol)
        self.sent()

    def test_the_new_assignee_is_told(self):
        desk.assign(self.alice, self.ticket, team=self.service_desk, assignee=self.bob)
        messages = [m for m in self.sent() if m.subject.startswith("Assigned")]
        self.assertEqual(self.to(messages), [self.bob.email])
        self.assertIn("Alice Agent assigned", messages[0].body)

    def test_a_team_without_assignee_is_told_but_not_who_assigned_it(self):
        desk.assign(self.alice, self.ticket, team=self.service_desk)
        messages = [m for m in self.sent() if m.subject.startswith("Assigned")]
        self.assertEqual(self.to(messages), [self.bob.email])
        self.assertIn("Assigned to Service Desk", messages[0].subject)

    def test_a_team_address_is_told_instead_of_its_members(self):
        self.service_desk.email = "desk@northwind.test"
        self.service_desk.save()
        desk.assign(self.alice, self.ticket, team=self.service_desk)
        messages = [m for m in self.sent() if m.subject.startswith("Assigned")]
        self.assertEqual(self.to(messages), ["desk@northwind.test"])

    def test_taking_a_ticket_oneself_tells_no_agent(self):
        desk.assign(self.alice, self.ticket, team=self.service_desk, assignee=self.alice)
        self.assertEqual([m for m in self.sent() if m.subject.startswith("Assigned")], [])


class SlaTests(MailTestCase):
    def setUp(self):
        calendar = Calendar.objects.create(name="24x7", always=True)
        policy = Policy.objects.create(name="Standard", calendar=calendar)
        Target.objects.create(policy=policy, priority=3, metric=Metric.FIRST_RESPONSE, minutes=60)
        with time_machine.travel(MONDAY_9, tick=False):
            self.ticket = self.open_ticket(self.carol)
        self.sent()

    def test_a_warning_goes_to_the_assignee_or_else_the_team_lead(self):
        with time_machine.travel(MONDAY_9, tick=False):
            desk.assign(self.bob, self.ticket, team=self.service_desk)
        self.sent()
        sweep.sweep(MONDAY_9 + timedelta(minutes=46))
        [message] = self.sent()
        self.assertEqual(message.to, [self.alice.email])  # the lead
        self.assertEqual(message.subject, f"SLA warning: [{self.ticket.key}] {self.ticket.title}")
        self.assertIn("First response for", message.body)
        self.assertIn("2026-11-23 10:00 UTC", message.body)

    def test_a_breach_goes_to_the_assignee_and_the_team_lead(self):
        with time_machine.travel(MONDAY_9, tick=False):
            desk.assign(self.alice, self.ticket, team=self.service_desk, assignee=self.bob)
        self.sent()
        sweep.sweep(MONDAY_9 + timedelta(minutes=61))
        messages = [m for m in self.sent() if m.subject.startswith("SLA breached")]
        self.assertEqual(self.to(messages), [self.alice.email, self.bob.email])

    def test_times_are_shown_in_each_readers_time_zone(self):
        self.alice.time_zone = "Asia/Tokyo"
        self.alice.save()
        self.bob.time_zone = "Europe/Berlin"
        self.bob.save()
        with time_machine.travel(MONDAY_9, tick=False):
            desk.assign(self.alice, self.ticket, team=self.service_desk, assignee=self.bob)
        self.sent()
        sweep.sweep(MONDAY_9 + timedelta(minutes=61))
        bodies = {m.to[0]: m.body for m in self.sent()}
        self.assertIn("was due at 2026-11-23 19:00 JST", bodies[self.alice.email])
        self.assertIn("was due at 2026-11-23 11:00 CET", bodies[self.bob.email])

    def test_an_sla_alert_in_the_digest_links_its_ticket(self):
        from sustain.notifications.models import DigestItem

        self.prefer(self.alice, sla_warning="digest")
        with time_machine.travel(MONDAY_9, tick=False):
            desk.assign(self.bob, self.ticket, team=self.service_desk)
        sweep.sweep(MONDAY_9 + timedelta(minutes=46))
        self.assertEqual([m for m in self.sent() if m.subject.startswith("SLA")], [])
        [item] = DigestItem.objects.all()
        self.assertEqual(
            (item.user, item.event, item.ticket), (self.alice, "sla_warning", self.ticket)
        )

    def test_escalations_follow_the_preferences_too(self):
        EscalationRule.objects.create(
            name="Breach", condition="sla_breach", urgent=True
        ).levels.create(level=1, actions=[{"do": "notify", "who": "managers"}])
        self.prefer(self.root, escalation="off")
        sweep.sweep(MONDAY_9 + timedelta(minutes=61))
        escalation.escalate_due(MONDAY_9 + timedelta(minutes=62))
        messages = [m for m in self.sent() if m.subject.startswith("Escalation")]
        self.assertEqual(self.to(messages), [self.mia.email])
        self.assertIn('Rule "Breach" escalated', messages[0].body)
        self.assertTrue(messages[0].alternatives)
