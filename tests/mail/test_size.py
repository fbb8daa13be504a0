"""Mail size and shape: bounded memory whatever the mail, and texts cut to the desk's limits.

The memory test is the real thing: a fresh SQLite data directory, then `sustain mail ingest`
reading a 40 MiB one-line mail from standard input in its own process, whose peak RSS the
kernel reports (bench/mail_memory.py prints the same figure for more shapes).
"""

from __future__ import annotations

import imaplib
import smtplib
import tempfile
from email.message import EmailMessage
from io import BytesIO, StringIO
from pathlib import Path
from unittest import mock

from django.core.management import CommandError, call_command
from django.test import override_settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bench import mail_memory
from sustain.desk import actions as desk
from sustain.desk.models import TEXT_MAX, Attachment, Ticket
from sustain.mail import actions, imap, shrink
from sustain.mail.models import InboundMail, Mailbox
from sustain.mail.parse import TEXT_CUT_MARK, TEXT_KEEP, parse
from sustain.mail.shrink import MAX_PARTS, TEXT_BYTES
from tests.mail import mails
from tests.mail.peers import PASSWORD, Dovecot, need_dovecot, running_receiver
from tests.mail.test_ingest import CAROL, IngestCase

MIB = 1024 * 1024
WORDS = "the quick brown fox jumps over the lazy dog "


def test_a_40_mib_one_line_mail_is_ingested_in_under_300_mb(tmp_path: Path) -> None:
    key = mail_memory.prepare(tmp_path / "data")
    mail = tmp_path / "one-line.eml"
    mail.write_bytes(mail_memory.make_mail("plain", 40 * MIB))
    peak, _, said = mail_memory.ingest_peak(tmp_path / "data", mail)
    assert said.startswith("opened "), said
    assert key.startswith("INC-")
    assert peak < 300, f"peak RSS {peak:.0f} MB"


def _one_line(size: int) -> str:
    return (WORDS * (size // len(WORDS) + 1))[:size]


def test_a_long_text_is_cut_before_the_costly_steps_and_says_so():
    raw = mails.plain(CAROL, "Log", _one_line(3 * MIB))
    parsed = parse(raw)
    assert parsed.cut
    assert len(parsed.text) == TEXT_KEEP and parsed.text.startswith(WORDS)
    assert len(parsed.reply) <= TEXT_KEEP


def test_a_short_mail_is_not_marked_cut():
    parsed = parse(mails.plain(CAROL, "Short", "Just this."))
    assert (parsed.text, parsed.cut) == ("Just this.", False)


def test_a_long_html_mail_becomes_a_bounded_text():
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = CAROL, "HTML", "<html-long@acme.test>"
    msg.set_content("<p>" + _one_line(4 * MIB) + "</p>", subtype="html", cte="8bit")
    parsed = parse(msg.as_bytes())
    assert parsed.cut and 0 < len(parsed.text) <= TEXT_KEEP
    assert len(parsed.html) <= TEXT_BYTES


def test_attachments_after_a_long_text_stay_whole_and_in_order():
    pdf = mails.PDF + b"x" * 300_000
    raw = mails.with_attachments(
        CAROL, "Big", _one_line(5 * MIB), [("a.pdf", "application/pdf", pdf)]
    )
    parsed = parse(raw)
    assert parsed.cut and parsed.text.startswith(WORDS)
    assert [(a.filename, a.content, a.refused) for a in parsed.attachments] == [("a.pdf", pdf, "")]


def test_a_long_base64_attachment_is_decoded_from_the_mail_as_the_stdlib_would():
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * (3 * MIB // 256) + b"x"  # 3 MiB: over TEXT_BYTES
    raw = mails.with_attachments(
        CAROL, "Scan", "See the scan.", [("a.pdf", "application/pdf", pdf)]
    )
    parsed = parse(raw)
    assert parsed.text == "See the scan." and not parsed.cut
    assert [(a.filename, a.content) for a in parsed.attachments] == [("a.pdf", pdf)]
    # the last line's padding lost on the way: decoded leniently, like the stdlib does
    unpadded = raw.replace(b"eA==\r\n", b"eA\r\n")
    assert unpadded != raw
    assert parse(unpadded).attachments[0].content == pdf


@override_settings(ATTACHMENT_MAX_BYTES=1 * MIB)
def test_an_attachment_over_the_limit_is_refused_without_being_read():
    big = b"%PDF-1.4\n" + b"\x00" * (3 * MIB)
    raw = mails.with_attachments(
        CAROL,
        "Scan",
        "See the scan.",
        [("scan.pdf", "application/pdf", big), ("ok.png", "image/png", mails.PNG)],
    )
    parsed = parse(raw)
    assert parsed.text == "See the scan." and not parsed.cut
    scan, png = parsed.attachments
    assert (scan.filename, scan.content) == ("scan.pdf", b"")
    assert scan.refused.startswith("larger than 1 MiB")
    assert (png.content, png.refused) == (mails.PNG, "")


def test_a_sender_cannot_forge_the_cut_marker():
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = CAROL, "Forged", "<forged@acme.test>"
    msg.set_content("Hello")
    msg.add_attachment(mails.PNG, maintype="image", subtype="png", filename="a.png")
    msg.get_payload()[1]["X-Sustain-Cut-0000000000000000"] = "999999999"
    parsed = parse(msg.as_bytes())
    assert [(a.content, a.refused) for a in parsed.attachments] == [(mails.PNG, "")]


def test_thousands_of_tiny_parts_are_bounded():
    boundary = "b0undary"
    part = f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    raw = (
        f"From: {CAROL}\r\nSubject: Parts\r\nMessage-ID: <parts@acme.test>\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        + part * 100_000
        + f"--{boundary}--\r\n"
    ).encode()
    parsed = parse(raw)
    assert parsed.cut
    assert parsed.text.count("x") <= MAX_PARTS


def test_base64_and_quoted_printable_texts_are_cut_alike():
    text = _one_line(3 * MIB)
    for encoding in ("base64", "quoted-printable"):
        part = mails.text_part(text, "utf-8", encoding)
        part["From"], part["Subject"], part["Message-ID"] = CAROL, "Enc", f"<{encoding}@a.test>"
        parsed = parse(part.as_bytes())
        assert parsed.cut, encoding
        assert parsed.text == text[:TEXT_KEEP], encoding


class CutOnTicketTests(IngestCase):
    def test_a_long_first_mail_opens_a_ticket_within_the_limit_with_a_note(self):
        body = _one_line(3 * MIB)
        found = self.ingest(
            mails.with_attachments(
                CAROL, "Huge log", body, [("x.exe", "application/x-msdownload", mails.EXE)]
            )
        )
        ticket = found.ticket
        assert ticket is not None, found.reason
        self.assertLessEqual(len(ticket.description), TEXT_MAX)
        self.assertTrue(ticket.description.startswith(WORDS))
        self.assertIn(actions.CUT_NOTE, ticket.description)
        self.assertIn("Not attached: x.exe", ticket.description)  # notes survive the cut
        self.assertEqual(found.text, found.text[:TEXT_KEEP] + TEXT_CUT_MARK)

    def test_a_text_just_over_the_limit_is_cut_too(self):
        body = _one_line(TEXT_MAX + 10)  # not cut by the parser, but longer than a description
        ticket = self.opened(mails.plain(CAROL, "Just over", body))
        self.assertLessEqual(len(ticket.description), TEXT_MAX)
        self.assertTrue(ticket.description.endswith(f"_{actions.CUT_NOTE}_"))

    def test_a_long_reply_becomes_a_comment_within_the_limit_with_a_note(self):
        ticket = desk.open_ticket(self.carol, title="Checkout")
        raw = mails.plain(CAROL, f"Re: [{ticket.key}] Checkout", _one_line(3 * MIB))
        found = self.ingest(raw)
        self.assertEqual(found.status, "appended", found.reason)
        comment = found.comment
        assert comment is not None
        self.assertLessEqual(len(comment.body), TEXT_MAX)
        self.assertIn(actions.CUT_NOTE, comment.body)
        self.assertEqual(Ticket.objects.get(pk=ticket.pk).description, "")

    def test_an_oversized_attachment_is_noted_not_attached(self):
        with override_settings(ATTACHMENT_MAX_BYTES=1 * MIB):
            big = b"%PDF-1.4\n" + b"\x00" * (3 * MIB)
            raw = mails.with_attachments(
                CAROL, "Scan", "See the scan.", [("scan.pdf", "application/pdf", big)]
            )
            ticket = self.opened(raw)
        self.assertIn("Not attached: scan.pdf is larger than 1 MiB", ticket.description)
        self.assertNotIn(actions.CUT_NOTE, ticket.description)
        self.assertFalse(Attachment.objects.filter(ticket=ticket).exists())

    def test_the_received_mail_keeps_a_bounded_text_and_serves_the_whole_mail(self):
        raw = mails.plain(CAROL, "Huge log", _one_line(3 * MIB))
        found = self.ingest(raw)
        self.assertTrue(found.text.endswith(TEXT_CUT_MARK))
        api = self.api(self.alice)
        detail = api.get(f"/api/v1/mail/inbound/{found.pk}")
        self.assertEqual(detail.status_code, 200)
        self.assertLess(len(detail.content), 2 * TEXT_KEEP)
        self.assertTrue(detail.json()["text"].endswith(TEXT_CUT_MARK))
        whole = api.get(f"/api/v1/mail/inbound/{found.pk}/raw")
        self.assertEqual(whole.status_code, 200)
        self.assertTrue(whole.streaming)
        self.assertEqual(whole["Content-Type"], "message/rfc822")
        self.assertEqual(b"".join(whole.streaming_content), raw)
        self.assertEqual(
            self.api(self.carol).get(f"/api/v1/mail/inbound/{found.pk}/raw").status_code, 403
        )
        self.client.force_login(self.alice)
        page = self.client.get(f"/mail/{found.pk}/raw")
        self.assertEqual(b"".join(page.streaming_content), raw)

    def test_a_short_mail_is_untouched(self):
        ticket = self.opened(mails.plain(CAROL, "Short", "Just this."))
        self.assertEqual(ticket.description, "Just this.")


@override_settings(MAIL_MAX_BYTES=1 * MIB)
class DoorLimitTests(IngestCase):
    """Every door refuses, or holds, a mail over SUSTAIN_MAIL_MAX_BYTES without reading it all."""

    def test_the_pipe_reads_one_byte_past_the_limit_and_bounces(self):
        stdin = BytesIO(mails.plain(CAROL, "Too big", _one_line(3 * MIB)))
        err = StringIO()
        with self.assertRaises(CommandError) as failed:
            call_command("mail", "ingest", stdin=stdin, stdout=StringIO(), stderr=err)
        self.assertEqual(failed.exception.returncode, 65)  # EX_DATAERR: the server bounces it
        self.assertEqual(stdin.tell(), MIB + 1)
        self.assertIn("larger than 1 MiB", err.getvalue())
        self.assertFalse(InboundMail.objects.exists())

    def test_the_pipe_takes_files_one_at_a_time_and_refuses_only_the_large_one(self):
        with tempfile.TemporaryDirectory() as tmp:
            big, small = Path(tmp) / "big.eml", Path(tmp) / "small.eml"
            big.write_bytes(mails.plain(CAROL, "Too big", _one_line(2 * MIB)))
            small.write_bytes(mails.plain(CAROL, "Small", "Fine."))
            out = StringIO()
            with self.assertRaises(CommandError) as failed, self.captureOnCommitCallbacks():
                call_command("mail", "ingest", str(big), str(small), stdout=out, stderr=StringIO())
        self.assertEqual(failed.exception.returncode, 65)
        self.assertTrue(out.getvalue().startswith("opened"))
        self.assertEqual(list(InboundMail.objects.values_list("subject", flat=True)), ["Small"])

    def test_the_smtp_receiver_refuses_a_mail_over_the_limit(self):
        raw = mails.plain(CAROL, "Too big", ("x" * 70 + "\n") * (MIB // 60))
        with running_receiver() as port, smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.ehlo()
            client.mail("carol@acme.test")  # without SIZE=: the limit holds during DATA
            client.rcpt(mails.SUPPORT)
            code, _ = client.data(raw)
        self.assertEqual(code, 552)
        self.assertFalse(InboundMail.objects.exists())


@override_settings(MAIL_MAX_BYTES=1 * MIB, OUTBOUND_ALLOW_NETWORKS=("127.0.0.1/32",))
class ImapLimitTests(IngestCase):
    dovecot: Dovecot

    @classmethod
    def setUpClass(cls) -> None:
        need_dovecot()
        cls.dovecot = Dovecot()
        cls.dovecot.start()
        cls.addClassCleanup(cls.dovecot.stop)
        super().setUpClass()

    def test_a_mail_over_the_limit_is_held_with_its_headers_and_marked_seen(self):
        user = "desk-size"
        box = Mailbox.objects.create(
            name=user,
            host="127.0.0.1",
            port=self.dovecot.port,
            security=Mailbox.Security.PLAIN,
            username=user,
            password=PASSWORD,
            organization=self.acme,
        )
        conn = imaplib.IMAP4("127.0.0.1", self.dovecot.port)
        conn.login(user, PASSWORD)
        self.addCleanup(conn.logout)
        big = mails.plain(
            CAROL, "Too big", ("y" * 70 + "\n") * (2 * MIB // 70), mid="<big@acme.test>"
        )
        for raw in (big, mails.plain(CAROL, "Small", "Fine.")):
            self.assertEqual(conn.append("INBOX", None, None, raw)[0], "OK")
        with self.captureOnCommitCallbacks(execute=True):
            result = imap.poll(box)
        assert result is not None
        self.assertEqual((result.error, result.statuses), ("", {"held": 1, "opened": 1}))
        held = InboundMail.objects.get(status="held")
        self.assertEqual((held.message_id, held.subject), ("big@acme.test", "Too big"))
        self.assertIn("larger than 1 MiB", held.reason)
        self.assertLessEqual(held.size, actions.OVERSIZED_HEAD)
        conn.select("INBOX")
        self.assertEqual(conn.search(None, "UNSEEN")[1][0], b"")  # not fetched again


@given(
    texts=st.lists(
        st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=3000),
        min_size=1,
        max_size=4,
    ),
    files=st.lists(st.binary(min_size=1, max_size=3000), max_size=3),
)
@hypothesis_settings(max_examples=60, deadline=None)
def test_shrinking_keeps_the_structure_and_every_attachment(texts, files):
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = CAROL, "Parts", "<parts@acme.test>"
    msg.make_mixed()
    for text in texts:
        part = EmailMessage()
        part.set_content(text)
        msg.attach(part)
    for n, content in enumerate(files):
        msg.add_attachment(content, maintype="application", subtype="pdf", filename=f"{n}.pdf")
    raw = msg.as_bytes()
    whole = parse(raw)
    with mock.patch.object(shrink, "TEXT_BYTES", 200):  # every text part is "long"
        small = parse(raw)
    assert [(a.filename, a.content) for a in small.attachments] == [
        (a.filename, a.content) for a in whole.attachments
    ]
    assert small.text[:10] == whole.text[:10]
    assert small.cut or small.text == whole.text  # a text not said to be cut is whole
