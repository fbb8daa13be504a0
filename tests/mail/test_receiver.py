"""Mail sent with smtplib to our SMTP and LMTP receiver, listening on 127.0.0.1."""

from __future__ import annotations

import smtplib
from unittest import mock

from django.db import OperationalError

from sustain.desk.models import Ticket
from sustain.mail.models import InboundMail, Mailbox
from tests.base import SustainTestCase
from tests.mail import mails
from tests.mail.peers import running_receiver

CAROL = "Carol Customer <carol@acme.test>"


class SmtpReceiverTests(SustainTestCase):
    def send(self, port: int, raw: bytes, to: str = mails.SUPPORT) -> dict:
        with (
            self.captureOnCommitCallbacks(execute=True),
            smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp,
        ):
            return smtp.sendmail("carol@acme.test", [to], raw)

    def test_mail_over_smtp_opens_a_ticket_then_its_reply_joins(self):
        with running_receiver() as port:
            raw = mails.plain(CAROL, "Checkout returns 502", "Orders fail since 09:00.")
            self.assertEqual(self.send(port, raw), {}, "every recipient accepted")
            first = InboundMail.objects.get()
            reply = mails.gmail_reply(
                CAROL,
                f"Re: [{first.ticket.key}] Checkout returns 502",
                "And now the cart is empty.",
                "Orders fail since 09:00.",
                in_reply_to=f"<{first.message_id}>",
            )
            self.send(port, reply)
        ticket = Ticket.objects.get()
        self.assertEqual(ticket.title, "Checkout returns 502")
        self.assertEqual(
            list(ticket.comments.values_list("body", "channel")),
            [("And now the cart is empty.", "email")],
        )

    def test_each_shape_arrives_whole_over_smtp(self):
        shapes = {
            "attachments": mails.with_attachments(
                CAROL,
                "Files",
                "Attached.",
                [("shot.png", "image/png", mails.PNG), ("r.pdf", "application/pdf", mails.PDF)],
            ),
            "koi8-r": mails.koi8_mail("carol@acme.test"),
            "inline image": mails.html_with_inline_image(
                CAROL, "Look", "See.", '<img src="cid:shot1@client.test">'
            ),
            "auto-reply": mails.auto_reply(CAROL, "Checkout"),
            "bounce": mails.bounce("carol@acme.test", "Checkout"),
            "stranger": mails.plain("who@nowhere.test", "Hi", "?"),
        }
        with running_receiver() as port:
            for raw in shapes.values():
                self.send(port, raw)
        got = {m.subject: m for m in InboundMail.objects.all()}
        self.assertEqual(got["Files"].ticket.attachments.count(), 2)
        self.assertEqual(got["Принтер сломан"].ticket.description, "Принтер не печатает с утра.")
        self.assertEqual(got["Look"].ticket.attachments.get().content_type, "image/png")
        self.assertEqual(got["Automatic reply: Checkout"].status, "ignored")
        self.assertEqual(got["Undelivered Mail Returned to Sender"].status, "ignored")
        self.assertEqual(got["Hi"].status, "held")

    def test_the_recipient_picks_the_mailbox(self):
        box = Mailbox.objects.create(
            name="globex desk",
            address="globex@support.test",
            host="-",
            username="-",
            organization=self.globex,
            team=self.service_desk,
        )
        with running_receiver() as port:
            self.send(
                port, mails.plain("new@globex-partner.test", "Hi", "Help"), to="Globex@Support.test"
            )
        found = InboundMail.objects.get()
        self.assertEqual((found.mailbox, found.ticket.organization), (box, self.globex))

    def test_a_database_failure_answers_451_so_the_server_retries(self):
        with (
            running_receiver() as port,
            mock.patch.object(
                InboundMail.objects, "create", side_effect=OperationalError("locked")
            ),
            self.assertRaises(smtplib.SMTPDataError) as refused,
        ):
            self.send(port, mails.plain(CAROL, "Retry me", "x"))
        self.assertEqual(refused.exception.smtp_code, 451)
        self.assertFalse(InboundMail.objects.exists())


class LmtpReceiverTests(SustainTestCase):
    def test_mail_over_lmtp_is_stored_and_answered_per_recipient(self):
        with running_receiver(lmtp=True) as port:
            with (
                self.captureOnCommitCallbacks(execute=True),
                smtplib.LMTP("127.0.0.1", port) as lmtp,
            ):
                refused = lmtp.sendmail(
                    "carol@acme.test", [mails.SUPPORT], mails.plain(CAROL, "Over LMTP", "Hello.")
                )
            self.assertEqual(refused, {})
        found = InboundMail.objects.get()
        self.assertEqual((found.status, found.ticket.title), ("opened", "Over LMTP"))
