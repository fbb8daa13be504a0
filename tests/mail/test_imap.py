"""Polling IMAP against a real Dovecot started for these tests."""

from __future__ import annotations

import imaplib
import itertools
import ssl
from io import StringIO
from unittest import mock

from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.test import override_settings

from sustain.core import outbound
from sustain.mail import imap, tasks
from sustain.mail.models import InboundMail, Mailbox
from tests.base import SustainTestCase
from tests.mail import mails
from tests.mail.peers import PASSWORD, Dovecot, need_dovecot

CAROL = "Carol Customer <carol@acme.test>"
_users = itertools.count(1)


@override_settings(OUTBOUND_ALLOW_NETWORKS=("127.0.0.1/32",))  # the test server, on purpose
class ImapTests(SustainTestCase):
    dovecot: Dovecot

    @classmethod
    def setUpClass(cls) -> None:
        need_dovecot()
        cls.dovecot = Dovecot()
        cls.dovecot.start()
        cls.addClassCleanup(cls.dovecot.stop)
        super().setUpClass()

    def setUp(self) -> None:
        self.user = f"desk{next(_users)}"  # a mailbox of its own for each test

    def mailbox(self, **fields) -> Mailbox:
        fields = {
            "name": self.user,
            "host": "127.0.0.1",
            "port": self.dovecot.port,
            "security": Mailbox.Security.PLAIN,
            "username": self.user,
            "password": PASSWORD,
            "organization": self.acme,
            **fields,
        }
        return Mailbox.objects.create(**fields)

    def imap(self, folder: str = "INBOX") -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.dovecot.port)
        conn.login(self.user, PASSWORD)
        conn.select(folder)
        self.addCleanup(conn.logout)
        return conn

    def deliver(self, *raws: bytes) -> None:
        conn = self.imap()
        for raw in raws:
            typ, _ = conn.append("INBOX", None, None, raw)
            self.assertEqual(typ, "OK")

    def unseen(self, conn: imaplib.IMAP4) -> int:
        conn.noop()
        return len(conn.search(None, "UNSEEN")[1][0].split())

    def count(self, folder: str) -> int:
        conn = imaplib.IMAP4("127.0.0.1", self.dovecot.port)
        conn.login(self.user, PASSWORD)
        _typ, data = conn.select(folder)
        conn.logout()
        return int(data[0])

    def fetch(self, *args: str) -> str:
        out = StringIO()
        with self.captureOnCommitCallbacks(execute=True):
            call_command("mail", "fetch", *args, stdout=out)
        return out.getvalue()

    def test_fetch_stores_every_new_mail_then_marks_it_seen(self):
        box = self.mailbox()
        first = mails.plain(CAROL, "Printer on fire", "Smoke.")
        self.deliver(
            first, mails.auto_reply(CAROL, "Printer"), mails.plain("x@stranger.test", "Hi", "?")
        )
        output = self.fetch()
        self.assertIn(f"{box.name}: 3 fetched (1 ignored, 2 opened)", output)
        statuses = sorted(InboundMail.objects.values_list("status", flat=True))
        self.assertEqual(statuses, ["ignored", "opened", "opened"])  # the stranger joins Acme
        self.assertEqual(self.unseen(self.imap()), 0)
        box.refresh_from_db()
        self.assertIsNotNone(box.last_polled_at)
        self.assertEqual(box.last_error, "")
        # a reply arrives; the next poll takes only it
        ticket = InboundMail.objects.get(subject="Printer on fire").ticket
        self.deliver(mails.plain(CAROL, f"Re: [{ticket.key}] Printer", "Out now."))
        self.assertIn("1 fetched (1 appended)", self.fetch("--mailbox", box.name))
        self.assertEqual(ticket.comments.get().body, "Out now.")

    def test_fetch_can_move_mail_to_a_folder(self):
        self.mailbox(after_fetch=Mailbox.AfterFetch.MOVE, move_to="Processed")
        self.deliver(mails.plain(CAROL, "One", "1"), mails.plain(CAROL, "Two", "2"))
        self.fetch()
        self.assertEqual((self.count("INBOX"), self.count("Processed")), (0, 2))
        self.assertEqual(InboundMail.objects.count(), 2)

    def test_a_mail_is_marked_only_after_it_is_stored(self):
        box = self.mailbox()
        self.deliver(*(mails.plain(CAROL, f"Mail {n}", "x") for n in range(3)))
        real = imap.actions.ingest
        calls = itertools.count(1)

        def failing_second(raw, **kwargs):
            if next(calls) == 2:
                raise OperationalError("database is locked")
            return real(raw, **kwargs)

        with (
            mock.patch.object(imap.actions, "ingest", side_effect=failing_second),
            self.assertRaises(CommandError),
        ):
            self.fetch()
        self.assertEqual(InboundMail.objects.count(), 1)
        self.assertEqual(self.unseen(self.imap()), 2, "the failed mail and the rest wait")
        box.refresh_from_db()
        self.assertIn("database is locked", box.last_error)
        self.fetch()  # the next poll takes the rest
        self.assertEqual(InboundMail.objects.count(), 3)
        self.assertEqual(self.unseen(self.imap()), 0)

    def test_imap_over_tls_and_starttls_check_the_certificate(self):
        self.enterContext(outbound.using_resolver(lambda host, port: ["127.0.0.1"]))
        trusted = ssl.create_default_context(cafile=str(self.dovecot.cert))
        for security, port in (
            (Mailbox.Security.SSL, self.dovecot.tls_port),
            (Mailbox.Security.STARTTLS, self.dovecot.port),
        ):
            # A name the test resolves to the server, checked by the outbound guard as any
            # mailbox host is (`localhost` itself is refused by name).
            box = self.mailbox(
                name=f"tls {security}", host="mail.sustain.test", port=port, security=security
            )
            self.deliver(mails.plain(CAROL, f"Over {security}", "x"))
            self.assertEqual(imap.poll(box, ssl_context=trusted).error, "")
            untrusted = imap.poll(box)  # the system's CAs do not know this certificate
            self.assertIn("CERTIFICATE_VERIFY_FAILED", untrusted.error)
        self.assertEqual(
            sorted(InboundMail.objects.values_list("subject", flat=True)),
            ["Over ssl", "Over starttls"],
        )

    def test_a_mailbox_on_a_network_not_allowed_is_refused_before_connecting(self):
        box = self.mailbox()
        self.deliver(mails.plain(CAROL, "Never fetched", "x"))
        with self.settings(OUTBOUND_ALLOW_NETWORKS=()):
            result = imap.poll(box)
        assert result is not None
        self.assertIn("address not allowed: loopback", result.error)
        self.assertFalse(InboundMail.objects.exists())
        for host, why in (
            ("localhost", "local or metadata host name"),
            ("127.1", "numeric host not in dotted-quad form"),
            ("169.254.169.254", "cloud metadata service"),
        ):
            box.host = host
            box.save()
            self.assertIn(why, imap.poll(box).error)

    def test_a_wrong_password_is_reported_on_the_mailbox_and_by_the_command(self):
        box = self.mailbox(password="wrong")
        with self.assertRaisesMessage(CommandError, f"Could not poll {box.name}"):
            self.fetch()
        box.refresh_from_db()
        self.assertIn("login", box.last_error.lower())

    def test_a_mailbox_being_polled_is_not_polled_twice(self):
        box = self.mailbox()
        from django.utils import timezone

        self.assertTrue(imap.claim(box, timezone.now()))
        self.assertIsNone(imap.poll(box))
        self.assertFalse(imap.claim(box, timezone.now()))

    def test_the_worker_polls_every_active_mailbox(self):
        self.mailbox()
        self.mailbox(name="inactive", active=False)
        self.deliver(mails.plain(CAROL, "By the worker", "x"))
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(tasks.fetch_mailboxes.call_local(), 1)
        self.assertEqual(InboundMail.objects.get().subject, "By the worker")
