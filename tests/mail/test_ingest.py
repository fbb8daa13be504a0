"""Ingestion: what becomes of each mail, whatever door it came through."""

from __future__ import annotations

from unittest import mock

from django.core import mail as sent
from django.db import OperationalError
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from sustain.core import outbox
from sustain.desk import actions as desk
from sustain.desk.models import Attachment, Comment, Status, Ticket, TicketLink
from sustain.mail import store, threads
from sustain.mail.actions import ingest
from sustain.mail.models import DomainRoute, InboundMail, Mailbox, MessageRef
from tests.base import SustainTestCase
from tests.mail import mails, signing

CAROL = "Carol Customer <carol@acme.test>"


class IngestCase(SustainTestCase):
    def ingest(self, raw: bytes, **kwargs) -> InboundMail:
        with self.captureOnCommitCallbacks(execute=True):
            found = ingest(raw, **kwargs)
        outbox.deliver_due()
        return found

    def opened(self, raw: bytes, **kwargs) -> Ticket:
        found = self.ingest(raw, **kwargs)
        self.assertEqual(found.status, "opened", found.reason)
        assert found.ticket is not None
        return found.ticket

    def sent_to(self, address: str) -> list:
        return [m for m in sent.outbox if address in m.to]


class NewMailTests(IngestCase):
    def test_a_customers_mail_opens_a_ticket_in_her_name(self):
        raw = mails.plain(CAROL, "Checkout returns 502", "Since 09:00 every order fails.")
        found = self.ingest(raw)
        ticket = found.ticket
        self.assertEqual(found.status, "opened")
        self.assertEqual(
            (ticket.title, ticket.description, ticket.requester, ticket.organization),
            ("Checkout returns 502", "Since 09:00 every order fails.", self.carol, self.acme),
        )
        self.assertEqual(ticket.channel, "email")
        self.assertEqual(threads.ticket_for([found.message_id]), ticket)
        self.assertEqual(store.load(found.raw_path), raw)

    def test_the_same_mail_delivered_twice_is_stored_once_and_acts_once(self):
        raw = mails.plain(CAROL, "Printer on fire", "Smoke everywhere.")
        first = self.ingest(raw)
        again = self.ingest(raw.replace(b"From:", b"Received: from mx2.acme.test\r\nFrom:", 1))
        self.assertEqual(again.pk, first.pk)
        self.assertEqual(InboundMail.objects.count(), 1)
        self.assertEqual(Ticket.objects.filter(title="Printer on fire").count(), 1)

    def test_the_answer_to_a_mail_is_marked_auto_replied_and_threads_to_it(self):
        found = self.ingest(mails.plain(CAROL, "VPN down", "Cannot connect."))
        answers = self.sent_to("carol@acme.test")
        self.assertTrue(answers, "the requester hears that her ticket was opened")
        for answer in answers:
            self.assertEqual(answer.extra_headers["Auto-Submitted"], "auto-replied")
            self.assertEqual(answer.extra_headers["In-Reply-To"], f"<{found.message_id}>")
            self.assertIn(f"[{found.ticket.key}]", answer.subject)

    def test_mail_sent_from_the_ui_is_not_marked_as_an_answer_to_a_mail(self):
        ticket = self.opened(mails.plain(CAROL, "VPN down", "Cannot connect."))
        sent.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            desk.add_comment(self.alice, ticket, "Restarted the gateway.")
        outbox.deliver_due()
        answer = self.sent_to("carol@acme.test")[-1]
        self.assertNotEqual(answer.extra_headers.get("Auto-Submitted"), "auto-replied")
        self.assertIsNone(threads.answered_message_id())

    def test_a_colleague_in_cc_of_a_signed_mail_watches_the_new_ticket(self):
        raw = mails.plain(CAROL, "Slow reports", "Reports take minutes.", Cc="cathy@acme.test")
        with signing.published("acme.test"):
            ticket = self.opened(signing.sign(raw, "acme.test"))
        self.assertIn(self.cathy, ticket.watchers.all())

    def test_addresses_of_the_organization_in_cc_are_copied_on_the_tickets_mail(self):
        DomainRoute.objects.create(domain="ops.acme.test", organization=self.acme)
        cc = (
            "Vendor <ops@vendor.test>, dave@globex.test, support@sustain.localhost, "
            "Night Shift <night@ops.acme.test>"
        )
        raw = signing.sign(mails.plain(CAROL, "Disk full", "Again.", Cc=cc), "acme.test")
        with signing.published("acme.test"):
            found = self.ingest(raw)
        ticket = found.ticket
        self.assertEqual(list(ticket.cc.values_list("email", flat=True)), ["night@ops.acme.test"])
        self.assertIn("ops@vendor.test: neither a user nor a domain of Acme", found.cc_ignored)
        self.assertIn("dave@globex.test", found.cc_ignored)
        sent.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            desk.add_comment(self.alice, ticket, "Cleaned up /var.")
        outbox.deliver_due()
        self.assertTrue(self.sent_to("night@ops.acme.test"), "the copied address hears it")
        self.assertFalse(self.sent_to("ops@vendor.test"), "an outsider is never copied")
        self.assertFalse(self.sent_to("dave@globex.test"), "another customer's user never is")

    def test_a_forwarded_mail_keeps_the_forwarded_message(self):
        body = (
            "See below.\n\n---------- Forwarded message ---------\nFrom: Monitor <m@acme.test>\n"
            "Subject: Disk full\n\nDisk /var is 100% full on db1.\n"
        )
        ticket = self.opened(mails.plain(CAROL, "Fwd: Disk full", body))
        self.assertEqual(ticket.title, "Disk full")
        self.assertIn("Disk /var is 100% full on db1.", ticket.description)

    def test_a_mail_in_koi8_r_reads_right(self):
        ticket = self.opened(mails.koi8_mail("carol@acme.test"))
        self.assertEqual(ticket.title, "Принтер сломан")
        self.assertEqual(ticket.description, "Принтер не печатает с утра.")


class UnknownSenderTests(IngestCase):
    def test_a_routed_domain_makes_the_sender_a_customer_without_a_password(self):
        DomainRoute.objects.create(domain="acme.test", organization=self.acme)
        ticket = self.opened(mails.plain("Jürgen Müller <jm@acme.test>", "Backup", "Failed."))
        self.assertEqual(ticket.organization, self.acme)
        self.assertEqual(
            (ticket.requester.name, ticket.requester.role), ("Jürgen Müller", "customer")
        )
        self.assertFalse(ticket.requester.has_usable_password())

    def test_an_unrouted_stranger_is_held_for_review(self):
        found = self.ingest(mails.plain("x@unknown.test", "Hello", "Buy now"))
        self.assertEqual(found.status, "held")
        self.assertIn("unknown sender", found.reason)
        self.assertIsNone(found.ticket)
        self.assertEqual(Ticket.objects.count(), 0)
        self.assertEqual(sent.outbox, [], "nobody is answered about held mail")

    def test_a_mailbox_of_an_organization_places_strangers_there_and_routes_to_its_team(self):
        box = Mailbox.objects.create(
            name="acme", host="x", username="u", organization=self.acme, team=self.service_desk
        )
        ticket = self.opened(mails.plain("new@elsewhere.test", "Help", "Please."), mailbox=box)
        self.assertEqual((ticket.organization, ticket.team), (self.acme, self.service_desk))
        self.assertEqual(InboundMail.objects.get().mailbox, box)

    @override_settings(MAIL_UNKNOWN="open", MAIL_DEFAULT_ORGANIZATION="globex")
    def test_with_open_and_a_default_organization_strangers_open_tickets_there(self):
        ticket = self.opened(mails.plain("x@unknown.test", "Hello", "It broke."))
        self.assertEqual(ticket.organization, self.globex)

    def test_an_inactive_user_is_held(self):
        self.carol.is_active = False
        self.carol.save()
        found = self.ingest(mails.plain(CAROL, "Still here", "Hi"))
        self.assertEqual(found.status, "held")

    def test_a_new_mail_from_an_agent_waits_for_the_customer_to_be_chosen(self):
        raw = mails.plain("alice@northwind.test", "Acme called", "Printer.")
        with signing.published("northwind.test"):
            found = self.ingest(signing.sign(raw, "northwind.test"))
        self.assertEqual(found.status, "held")
        self.assertIn("choose the customer", found.reason)


class ThreadingTests(IngestCase):
    def setUp(self):
        self.first = self.ingest(mails.plain(CAROL, "Checkout returns 502", "Orders fail."))
        self.ticket = self.first.ticket
        desk.assign(self.alice, self.ticket, team=self.service_desk, assignee=self.alice)
        sent.outbox.clear()

    def our_message_id(self) -> str:
        with self.captureOnCommitCallbacks(execute=True):
            desk.add_comment(self.alice, self.ticket, "Which browser?")
        outbox.deliver_due()
        notice = self.sent_to("carol@acme.test")[-1]
        return notice.extra_headers["Message-ID"]

    def test_a_gmail_reply_to_our_mail_joins_its_ticket_folded(self):
        ours = self.our_message_id()
        raw = mails.gmail_reply(
            CAROL,
            f"Re: [{self.ticket.key}] Checkout",
            "Firefox — für alle.",
            "Which browser?",
            in_reply_to=ours,
        )
        found = self.ingest(raw)
        self.assertEqual((found.status, found.ticket), ("appended", self.ticket))
        comment = found.comment
        self.assertEqual(
            (comment.author, comment.body, comment.is_public, comment.channel),
            (self.carol, "Firefox — für alle.", True, "email"),
        )
        self.assertIn("> Which browser?", found.text, "the whole text is kept")
        self.assertEqual(MessageRef.objects.get(message_id=found.message_id).direction, "in")

    def test_an_outlook_reply_joins_and_loses_the_header_block(self):
        ours = self.our_message_id()
        raw = mails.outlook_reply(
            CAROL,
            f"RE: [{self.ticket.key}] Checkout",
            "Edge, Version 120.",
            "Which browser?",
            in_reply_to=ours,
        )
        found = self.ingest(raw)
        self.assertEqual(found.comment.body, "Edge, Version 120.")

    def test_a_thunderbird_reply_below_the_quote_joins_without_quote_and_signature(self):
        ours = self.our_message_id()
        raw = mails.thunderbird_reply(
            "Cathy Colleague <cathy@acme.test>",
            f"Re: [{self.ticket.key}] Checkout",
            "Auch Safari: Größe egal.",
            "Which browser?",
            in_reply_to=ours,
        )
        found = self.ingest(raw)
        self.assertEqual((found.status, found.comment.author), ("appended", self.cathy))
        self.assertEqual(found.comment.body, "Auch Safari: Größe egal.")

    def test_a_reply_to_the_customers_own_first_mail_joins(self):
        raw = mails.plain(
            CAROL,
            "Re: Checkout returns 502",
            "More detail.",
            in_reply_to=f"<{self.first.message_id}>",
        )
        self.assertEqual(self.ingest(raw).ticket, self.ticket)

    def test_the_key_in_the_subject_is_enough(self):
        raw = mails.plain(CAROL, f"Re: [{self.ticket.key.lower()}] Checkout", "Any news?")
        found = self.ingest(raw)
        self.assertEqual((found.status, found.ticket), ("appended", self.ticket))

    def test_in_reply_to_wins_over_a_key_in_the_subject(self):
        other = self.open_ticket(self.carol, title="Another")
        raw = mails.plain(
            CAROL,
            f"Re: [{other.key}] mixed up",
            "Meant the first.",
            in_reply_to=f"<{self.first.message_id}>",
        )
        self.assertEqual(self.ingest(raw).ticket, self.ticket)

    def test_a_reply_tells_the_agent_with_an_answer_marked_auto_replied(self):
        raw = mails.plain(CAROL, f"Re: [{self.ticket.key}]", "Still failing.")
        found = self.ingest(raw)
        notice = self.sent_to("alice@northwind.test")[-1]
        self.assertEqual(notice.extra_headers["Auto-Submitted"], "auto-replied")
        self.assertEqual(notice.extra_headers["In-Reply-To"], f"<{found.message_id}>")

    def test_the_customers_reply_to_a_pending_ticket_reopens_it(self):
        desk.transition(self.alice, self.ticket, Status.PENDING)
        self.ingest(mails.plain(CAROL, f"Re: [{self.ticket.key}]", "Here is the log."))
        self.ticket.refresh_from_db()
        self.assertEqual(self.ticket.status, Status.OPEN)

    def test_an_agent_answering_by_signed_mail_writes_a_public_reply(self):
        raw = mails.plain("alice@northwind.test", f"Re: [{self.ticket.key}]", "Fixed.")
        with signing.published("northwind.test"):
            found = self.ingest(signing.sign(raw, "northwind.test"))
        self.assertEqual((found.comment.author, found.comment.is_public), (self.alice, True))
        self.assertEqual((found.auth_result, found.auth_domain), ("pass", "northwind.test"))

    def test_a_reply_to_a_closed_ticket_opens_a_linked_follow_up(self):
        desk.transition(self.alice, self.ticket, Status.RESOLVED)
        desk.transition(self.carol, self.ticket, Status.CLOSED)
        found = self.ingest(mails.plain(CAROL, f"Re: [{self.ticket.key}]", "It is back."))
        self.assertEqual(found.status, "opened")
        self.assertNotEqual(found.ticket, self.ticket)
        self.assertIn(f"Follow-up to {self.ticket.key}", found.ticket.description)
        self.assertTrue(TicketLink.objects.filter(source=found.ticket, target=self.ticket).exists())

    def test_a_reply_to_a_merged_ticket_goes_to_the_one_it_was_merged_into(self):
        survivor = self.open_ticket(self.carol, title="Checkout (main)")
        desk.merge(self.alice, self.ticket, into=survivor)
        found = self.ingest(mails.plain(CAROL, f"Re: [{self.ticket.key}]", "Any news?"))
        self.assertEqual(found.ticket, survivor)


class ForeignReplyTests(IngestCase):
    def setUp(self):
        self.first = self.ingest(mails.plain(CAROL, "Checkout returns 502", "Orders fail."))
        self.ticket = self.first.ticket
        sent.outbox.clear()

    def dave_replies(self) -> InboundMail:
        raw = mails.plain(
            "Dave Outsider <dave@globex.test>",
            f"Re: [{self.ticket.key}] Checkout returns 502",
            "We see this too.",
            in_reply_to=f"<{self.first.message_id}>",
        )
        return self.ingest(raw)

    def test_a_reply_from_another_customer_is_held_not_added(self):
        found = self.dave_replies()
        self.assertEqual(found.status, "held")
        self.assertEqual(
            (found.ticket, found.answers, found.organization), (None, self.ticket, self.globex)
        )
        self.assertFalse(Comment.objects.filter(ticket=self.ticket).exists())
        self.assertEqual(sent.outbox, [])

    @override_settings(MAIL_UNKNOWN="open")
    def test_with_open_it_opens_a_ticket_of_the_senders_own(self):
        found = self.dave_replies()
        self.assertEqual(found.status, "opened")
        self.assertEqual(
            (found.ticket.organization, found.ticket.requester), (self.globex, self.dave)
        )
        self.assertEqual(found.ticket.title, "Checkout returns 502")
        self.assertFalse(Comment.objects.filter(ticket=self.ticket).exists())

    def test_a_colleague_who_may_not_see_the_ticket_is_held(self):
        self.acme.customers_see_all_tickets = False
        self.acme.save()
        raw = mails.plain("cathy@acme.test", f"Re: [{self.ticket.key}]", "Me too.")
        self.assertEqual(self.ingest(raw).status, "held")

    def test_an_agent_who_does_not_serve_the_customer_is_held(self):
        self.bob.serves_all_organizations = False
        self.bob.save()
        self.bob.served_organizations.set([self.globex])
        raw = mails.plain("bob@northwind.test", f"Re: [{self.ticket.key}]", "Done.")
        with signing.published("northwind.test"):
            found = self.ingest(signing.sign(raw, "northwind.test"))
        self.assertEqual(found.status, "held")
        self.assertIn("may not see", found.reason)


class LoopTests(IngestCase):
    def setUp(self):
        self.first = self.ingest(mails.plain(CAROL, "Checkout returns 502", "Orders fail."))
        self.ticket = self.first.ticket
        sent.outbox.clear()

    def assert_ignored(self, raw: bytes) -> InboundMail:
        found = self.ingest(raw)
        self.assertEqual(found.status, "ignored", found.reason)
        self.assertFalse(Comment.objects.filter(ticket=self.ticket).exists())
        self.assertEqual(Ticket.objects.count(), 1)
        self.assertEqual(sent.outbox, [], "never answered")
        return found

    def test_an_out_of_office_answer_is_ignored(self):
        found = self.assert_ignored(
            mails.auto_reply(
                CAROL, f"[{self.ticket.key}] Checkout", in_reply_to=f"<{self.first.message_id}>"
            )
        )
        self.assertIn("Auto-Submitted", found.reason)

    def test_a_bounce_is_ignored(self):
        self.assert_ignored(mails.bounce("carol@acme.test", f"[{self.ticket.key}] Checkout"))

    def test_precedence_bulk_and_x_autoreply_are_ignored(self):
        self.assert_ignored(mails.plain(CAROL, f"[{self.ticket.key}]", "News", Precedence="bulk"))
        self.assert_ignored(mails.plain(CAROL, f"[{self.ticket.key}]", "Away", X_Autoreply="yes"))

    def test_our_own_mail_coming_back_is_ignored(self):
        self.assert_ignored(mails.plain("Sustain <support@sustain.localhost>", "[INC-1] x", "loop"))


class AttachmentTests(IngestCase):
    def test_attachments_are_kept_and_a_refused_type_is_noted_not_fatal(self):
        raw = mails.with_attachments(
            CAROL,
            "Screens",
            "See attached.",
            [
                ("shot.png", "image/png", mails.PNG),
                ("report.pdf", "application/pdf", mails.PDF),
                ("tool.exe", "application/octet-stream", mails.EXE),
            ],
        )
        found = self.ingest(raw)
        ticket = found.ticket
        self.assertEqual(found.status, "opened")
        self.assertEqual(
            sorted(ticket.attachments.values_list("filename", "content_type")),
            [("report.pdf", "application/pdf"), ("shot.png", "image/png")],
        )
        self.assertIn("tool.exe", found.notes)
        self.assertIn("tool.exe", ticket.description, "the ticket says what was left out")

    def test_a_replys_attachments_hang_on_its_comment(self):
        ticket = self.opened(mails.plain(CAROL, "Logs", "Will send logs."))
        raw = mails.with_attachments(
            CAROL, f"Re: [{ticket.key}]", "", [("app.log", "text/plain", b"ERROR db timeout\n")]
        )
        found = self.ingest(raw)
        self.assertEqual(found.comment.body, "(The e-mail had no text.)")
        attachment = Attachment.objects.get(comment=found.comment)
        self.assertEqual((attachment.filename, attachment.is_public), ("app.log", True))

    def test_an_inline_image_becomes_an_attachment(self):
        raw = mails.html_with_inline_image(
            CAROL,
            "Layout broken",
            "See the picture.",
            '<p>See <img src="cid:shot1@client.test"></p>',
        )
        ticket = self.opened(raw)
        self.assertEqual(
            list(ticket.attachments.values_list("content_type", flat=True)), ["image/png"]
        )


class RobustnessTests(IngestCase):
    def test_a_mail_without_sender_is_held_with_the_reason(self):
        raw = b"Subject: nobody\r\nMessage-ID: <anon@x.test>\r\n\r\nbody"
        found = self.ingest(raw)
        self.assertEqual((found.status, found.message_id), ("held", "anon@x.test"))
        self.assertIn("sender", found.reason)
        self.assertEqual(self.ingest(raw).pk, found.pk)

    def test_an_invalid_sender_address_is_held(self):
        found = self.ingest(mails.plain("not an address <x@@y>", "Hi", "x"))
        self.assertEqual(found.status, "held")

    def test_a_failing_database_raises_so_the_door_can_say_try_again(self):
        raw = mails.plain(CAROL, "DB down", "x")
        with (
            mock.patch.object(InboundMail.objects, "create", side_effect=OperationalError("gone")),
            self.assertRaises(OperationalError),
        ):
            ingest(raw)
        self.assertEqual(self.ingest(raw).status, "opened", "delivered again, it is stored")

    def test_a_defect_while_placing_a_mail_holds_it_instead_of_losing_it(self):
        with mock.patch("sustain.mail.actions._open", side_effect=KeyError("boom")):
            found = self.ingest(mails.plain(CAROL, "Defect", "x"))
        self.assertEqual(found.status, "held")
        self.assertIn("KeyError", found.reason)
        self.assertEqual(Ticket.objects.count(), 0)


class FuzzTests(HypothesisTestCase, SustainTestCase):
    """Each example in its own transaction, with the named actors."""

    @settings(max_examples=80, deadline=None)
    @given(
        st.binary(max_size=1500),
        st.sampled_from([b"", b"From: carol@acme.test\r\n", b"From: <>\r\nSubject: [INC-1]\r\n"]),
    )
    def test_malformed_mail_never_raises_out_of_ingestion(self, body, head):
        self.open_ticket(self.carol)  # INC-1, for mail that names it
        found = ingest(head + body)
        self.assertIn(found.status, {"opened", "appended", "held", "ignored"})

    @settings(max_examples=80, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.sampled_from(
                    [
                        "From",
                        "Subject",
                        "Message-ID",
                        "In-Reply-To",
                        "References",
                        "Content-Type",
                        "Content-Transfer-Encoding",
                        "Content-Disposition",
                        "Cc",
                        "Auto-Submitted",
                    ]
                ),
                st.text(max_size=300),
            ),
            max_size=10,
        ),
        st.binary(max_size=800),
    )
    def test_malformed_headers_never_raise_out_of_ingestion(self, headers, body):
        lines = [b"From: carol@acme.test"] + [
            f"{name}: {value}".encode("utf-8", "surrogatepass") for name, value in headers
        ]
        found = ingest(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        self.assertIn(found.status, {"opened", "appended", "held", "ignored"})
