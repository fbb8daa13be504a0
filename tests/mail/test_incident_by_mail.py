"""A customer runs an incident entirely by e-mail, an agent entirely in the UI; each sees the
other's messages, in order."""

from __future__ import annotations

import re
import smtplib

from django.core import mail as sent
from django.test import Client

from sustain.core import outbox
from sustain.desk.models import Status, Ticket
from tests.base import SustainTestCase
from tests.mail import mails
from tests.mail.peers import running_receiver

CAROL = "Carol Customer <carol@acme.test>"


class IncidentByMailTests(SustainTestCase):
    def setUp(self):
        self.agent = Client()
        self.agent.force_login(self.alice)

    def carol_sends(self, port: int, raw: bytes) -> None:
        with self.captureOnCommitCallbacks(execute=True), smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.sendmail("carol@acme.test", [mails.SUPPORT], raw)
        outbox.deliver_due()

    def alice_does(self, path: str, data: dict) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            response = self.agent.post(path, data)
        self.assertLess(response.status_code, 400, response.content[:500])
        outbox.deliver_due()

    def carols_inbox(self) -> list:
        return [m for m in sent.outbox if "carol@acme.test" in m.to]

    def last_from_agent(self, text: str):
        found = [m for m in self.carols_inbox() if text in m.body]
        self.assertTrue(found, f"Carol never got a mail saying {text!r}")
        return found[-1]

    def test_customer_by_mail_and_agent_in_the_ui(self):
        with running_receiver() as port:
            # 1. Carol writes to support.
            first = mails.plain(CAROL, "Checkout returns 502", "Since 09:00 every order fails.")
            self.carol_sends(port, first)
            ticket = Ticket.objects.get()
            self.assertEqual((ticket.requester, ticket.channel), (self.carol, "email"))

            # 2. Alice finds it in her queue and answers in the UI.
            queue = self.agent.get("/desk/", {"queue": "open"})
            self.assertContains(queue, ticket.key)
            self.alice_does(f"/desk/t/{ticket.key}/reply", {"body": "Which browser do you use?"})

            # 3. Carol gets it by mail and answers from Gmail, quoting it.
            question = self.last_from_agent("Which browser do you use?")
            self.assertIn(f"[{ticket.key}]", question.subject)
            self.carol_sends(
                port,
                mails.gmail_reply(
                    CAROL,
                    f"Re: {question.subject}",
                    "Firefox 120 on Windows.",
                    question.body,
                    in_reply_to=question.extra_headers["Message-ID"],
                    references=question.extra_headers.get("References", ""),
                ),
            )

            # 4. Alice sees the answer and asks her to try again; Carol confirms from Outlook.
            self.alice_does(
                f"/desk/t/{ticket.key}/reply", {"body": "Fixed in 2.4.2; please retry."}
            )
            fixed = self.last_from_agent("Fixed in 2.4.2; please retry.")
            self.carol_sends(
                port,
                mails.outlook_reply(
                    CAROL,
                    f"RE: {fixed.subject}",
                    "Works now, thank you!",
                    fixed.body,
                    in_reply_to=fixed.extra_headers["Message-ID"],
                ),
            )

        # 5. Alice resolves it in the UI.
        self.alice_does(f"/desk/t/{ticket.key}/status", {"status": "resolved"})
        ticket.refresh_from_db()
        self.assertEqual(ticket.status, Status.RESOLVED)
        self.assertEqual(Ticket.objects.count(), 1, "every mail joined the one ticket")

        # Alice's timeline: the whole conversation, in order, quotes folded away.
        page = self.agent.get(f"/desk/t/{ticket.key}").content.decode()
        said = [
            "Since 09:00 every order fails.",
            "Which browser do you use?",
            "Firefox 120 on Windows.",
            "Fixed in 2.4.2; please retry.",
            "Works now, thank you!",
        ]
        positions = [page.find(text) for text in said]
        self.assertTrue(all(p >= 0 for p in positions), dict(zip(said, positions, strict=True)))
        self.assertEqual(positions, sorted(positions), "the timeline is in order")
        self.assertEqual(page.count("Which browser do you use?"), 1, "her quote is folded away")

        # Carol's inbox: Alice's messages in order, each threaded to the one before.
        inbox = self.carols_inbox()
        bodies = [m.body for m in inbox]
        asked = next(i for i, b in enumerate(bodies) if "Which browser" in b)
        answered = next(i for i, b in enumerate(bodies) if "Fixed in 2.4.2" in b)
        self.assertLess(asked, answered)
        for message in inbox:
            self.assertIn(f"[{ticket.key}]", message.subject)
            self.assertRegex(message.extra_headers["Message-ID"], r"^<[^<>@]+@[^<>]+>$")
        known = {f"<{m.message_id}>" for m in ticket.message_refs.all()}
        for message in inbox[1:]:
            self.assertIn(message.extra_headers["In-Reply-To"], known)
            self.assertTrue(re.search(r"<[^>]+>", message.extra_headers["References"]))
