"""Who a mail is from: DKIM, trusted Authentication-Results, DMARC policy, reply tokens, Cc.

Mail is signed with a test key (signing.py) whose public key the offline DNS answers; no test
reaches the network.
"""

from __future__ import annotations

import smtplib
from email.utils import parseaddr
from io import BytesIO, StringIO
from unittest import mock

from django.core import mail as sent
from django.core.management import call_command
from django.test import Client, override_settings

from sustain.core import outbox
from sustain.desk import actions as desk
from sustain.desk.models import Comment
from sustain.mail import authentication, tokens
from sustain.mail.models import DomainRoute, InboundMail
from sustain.mail.parse import parse
from tests.mail import mails, offline_dns, signing
from tests.mail.peers import running_receiver
from tests.mail.test_ingest import CAROL, IngestCase

ALICE = "Alice Agent <alice@northwind.test>"
TRUSTED = ["mx.northwind.test"]
REJECT = {"_dmarc.acme.test": b"v=DMARC1; p=reject; rua=mailto:d@acme.test"}


class OnATicket(IngestCase):
    """Carol's ticket, assigned to Alice; the mail so far forgotten."""

    def setUp(self):
        self.first = self.ingest(mails.plain(CAROL, "Checkout returns 502", "Orders fail."))
        self.ticket = self.first.ticket
        desk.assign(self.alice, self.ticket, team=self.service_desk, assignee=self.alice)
        outbox.deliver_due()
        sent.outbox.clear()

    def reply(self, sender: str, body: str = "Fixed.", **headers: str) -> bytes:
        return mails.plain(sender, f"Re: [{self.ticket.key}] Checkout", body, **headers)

    def assert_held(self, found: InboundMail, *words: str) -> None:
        self.assertEqual(found.status, "held", found.reason)
        for word in words:
            self.assertIn(word, found.reason)
        self.assertFalse(Comment.objects.filter(ticket=self.ticket).exists())


class ForgedSenderTests(OnATicket):
    def test_a_forged_reply_as_the_customer_of_a_dmarc_domain_is_held(self):
        with offline_dns.records(REJECT):
            found = self.ingest(self.reply(CAROL, "Please send the invoice to my new IBAN."))
        self.assert_held(found, "not authenticated", "DMARC p=reject")
        self.assertEqual((found.auth_result, found.answers), ("fail", self.ticket))
        self.assertEqual(found.organization, self.acme, "the reviewers of Acme see it")
        self.assertEqual(sent.outbox, [])

    def test_a_forged_public_reply_as_an_agent_is_held_and_nothing_reaches_the_customer(self):
        found = self.ingest(self.reply(ALICE, "All fixed, here is the new login: evil.test"))
        self.assert_held(found, "an agent's address must be authenticated")
        self.assertEqual(found.auth_result, "none")
        self.assertEqual(sent.outbox, [], "nothing is mailed from our address to Carol")

    def test_released_by_a_reviewer_the_forged_agent_mail_is_quoted_not_in_the_agents_name(self):
        from sustain.mail.actions import release

        found = self.ingest(self.reply(ALICE, "Fixed."))
        release(self.bob, found, ticket=self.ticket, is_public=False)
        comment = Comment.objects.get(ticket=self.ticket)
        self.assertEqual((comment.author, comment.is_public), (self.bob, False))
        self.assertIn("E-mail from", comment.body)

    def test_a_signature_by_another_key_is_held(self):
        raw = signing.sign(self.reply(CAROL), "acme.test")
        other = {"test._domainkey.acme.test": b"v=DKIM1; k=rsa; p=" + b"A" * 40}
        with offline_dns.records(other):
            found = self.ingest(raw)
        self.assert_held(found, "DKIM")

    def test_several_from_domains_are_held(self):
        raw = self.reply(CAROL).replace(
            b"From: Carol Customer <carol@acme.test>",
            b"From: Carol Customer <carol@acme.test>, boss@globex.test",
        )
        self.assert_held(self.ingest(raw), "several From domains")


class DkimTests(OnATicket):
    def test_a_dkim_signed_reply_is_added(self):
        with signing.published("acme.test"):
            found = self.ingest(signing.sign(self.reply(CAROL, "Works now."), "acme.test"))
        self.assertEqual((found.status, found.comment.author), ("appended", self.carol))
        self.assertEqual(
            (found.auth_result, found.auth_method, found.auth_domain),
            ("pass", "dkim", "acme.test"),
        )
        self.assertIn("test._domainkey.acme.test", offline_dns.asked)

    def test_a_signed_agent_reply_reaches_the_customer(self):
        with signing.published("northwind.test"):
            found = self.ingest(
                signing.sign(self.reply(ALICE, "Deployed 2.4.2."), "northwind.test")
            )
        self.assertEqual((found.comment.author, found.comment.is_public), (self.alice, True))
        self.assertTrue(self.sent_to("carol@acme.test"))

    def test_a_subdomain_signs_for_its_organizational_domain(self):
        with signing.published("mail.acme.test"):
            found = self.ingest(signing.sign(self.reply(CAROL), "mail.acme.test"))
        self.assertEqual((found.status, found.auth_domain), ("appended", "mail.acme.test"))

    def test_a_signature_over_an_altered_body_is_held(self):
        raw = signing.sign(self.reply(CAROL, "Pay invoice 42 to the usual account."), "acme.test")
        forged = raw.replace(b"usual account", b"account DE00 1234")
        with signing.published("acme.test"):
            found = self.ingest(forged)
        self.assert_held(found, "DKIM signature does not verify", "d=acme.test")

    def test_an_altered_agent_mail_is_held(self):
        raw = signing.sign(self.reply(ALICE, "Restart the service."), "northwind.test")
        with signing.published("northwind.test"):
            found = self.ingest(raw.replace(b"Restart the service.", b"Run evil.sh as root."))
        self.assert_held(found, "an agent's address must be authenticated", "does not verify")
        self.assertEqual(sent.outbox, [])

    def test_a_signature_of_another_domain_does_not_authenticate_an_agent(self):
        with signing.published("mailer.test"):
            found = self.ingest(signing.sign(self.reply(ALICE), "mailer.test"))
        self.assert_held(found, "signed only by mailer.test")

    def test_a_from_added_on_top_of_a_signed_mail_is_held(self):
        raw = signing.sign(self.reply(CAROL, "Hello."), "acme.test")
        with signing.published("acme.test"):
            found = self.ingest(b"From: Cathy <cathy@acme.test>\r\n" + raw)
        self.assert_held(found, "several From headers")

    def test_a_signature_over_part_of_the_body_only_does_not_authenticate(self):
        raw = signing.sign(self.reply(ALICE, "Restart the service."), "northwind.test", length=True)
        with signing.published("northwind.test"):
            found = self.ingest(raw.rstrip(b"\r\n") + b"\r\nThen run evil.sh as root.\r\n")
        self.assert_held(found, "a signature over part of the mail only")

    def test_a_signed_mail_with_bare_line_feeds_verifies(self):
        raw = signing.sign(self.reply(CAROL, "First line.\nSecond line.\n"), "acme.test")
        with signing.published("acme.test"):
            found = self.ingest(raw.replace(b"\r\n", b"\n"))
        self.assertEqual((found.status, found.auth_result), ("appended", "pass"))

    def test_a_mail_with_more_text_than_is_checked_in_bounded_memory_is_not_dkim_checked(self):
        body = "word " * 400 + "\r\n"
        raw = signing.sign(self.reply(ALICE, body), "northwind.test")
        with (
            signing.published("northwind.test"),
            mock.patch.object(authentication, "DKIM_MAX_BLANKS", 300),
        ):
            found = self.ingest(raw)
        self.assert_held(found, "not DKIM-checked", "too much text")
        self.assertNotIn("test._domainkey.northwind.test", offline_dns.asked)

    def test_a_dns_failure_is_not_a_pass_and_is_held_with_the_reason(self):
        raw = signing.sign(self.reply(CAROL), "acme.test")
        with offline_dns.records({"test._domainkey.acme.test": TimeoutError("no answer")}):
            found = self.ingest(raw)
        self.assert_held(found, "DNS lookup", "failed")
        self.assertEqual(found.auth_result, "temperror")


@override_settings(MAIL_TRUSTED_AUTHSERV_IDS=TRUSTED)
class AuthenticationResultsTests(OnATicket):
    def header(self, server: str, results: str) -> str:
        return f"{server}; {results}"

    def test_a_trusted_dmarc_pass_is_accepted(self):
        raw = self.reply(
            ALICE,
            Authentication_Results=self.header(
                "mx.northwind.test",
                "dkim=pass header.d=northwind.test; dmarc=pass header.from=northwind.test",
            ),
        )
        found = self.ingest(raw)
        self.assertEqual((found.status, found.comment.author), ("appended", self.alice))
        self.assertEqual((found.auth_method, found.auth_domain), ("authres", "northwind.test"))

    def test_the_same_header_from_an_untrusted_server_is_ignored(self):
        raw = self.reply(
            ALICE,
            Authentication_Results=self.header(
                "mx.attacker.test", "dmarc=pass header.from=northwind.test"
            ),
        )
        found = self.ingest(raw)
        self.assert_held(found, "an agent's address must be authenticated")
        self.assertIn("no Authentication-Results from the receiving server", found.reason)

    def test_a_failure_wins_over_a_pass_added_with_the_same_authserv_id(self):
        raw = self.reply(
            ALICE,
            Authentication_Results="mx.northwind.test; dmarc=fail header.from=northwind.test",
        )
        forged = b"Authentication-Results: mx.northwind.test; dmarc=pass header.from=northwind.test"
        self.assert_held(self.ingest(forged + b"\r\n" + raw), "dmarc=fail")

    def test_a_pass_forged_below_the_receiving_servers_own_header_does_not_count(self):
        raw = self.reply(
            ALICE,
            Authentication_Results="mx.northwind.test; dmarc=pass header.from=northwind.test",
        )
        ours = b"Authentication-Results: mx.northwind.test; dkim=none; spf=none; dmarc=none"
        found = self.ingest(ours + b"\r\n" + raw)
        self.assert_held(found, "an agent's address must be authenticated")
        self.assertEqual(sent.outbox, [])

    def test_a_trusted_dmarc_fail_is_held(self):
        raw = self.reply(
            CAROL,
            Authentication_Results=self.header(
                "mx.northwind.test",
                "spf=fail smtp.mailfrom=x@evil.test; dmarc=fail header.from=acme.test",
            ),
        )
        self.assert_held(self.ingest(raw), "dmarc=fail", "mx.northwind.test")

    def test_a_trusted_aligned_spf_pass_is_accepted(self):
        raw = self.reply(
            CAROL,
            Authentication_Results=self.header(
                "mx.northwind.test", "spf=pass smtp.mailfrom=bounces@acme.test"
            ),
        )
        self.assertEqual(self.ingest(raw).status, "appended")


class UnauthenticatedTests(OnATicket):
    def test_plain_customer_mail_without_any_authentication_is_accepted_by_default(self):
        found = self.ingest(self.reply(CAROL, "Still broken."))
        self.assertEqual((found.status, found.auth_result), ("appended", "none"))
        self.assertIn("no authentication information", found.auth_reason)

    @override_settings(MAIL_UNAUTHENTICATED="hold")
    def test_with_hold_it_is_held_and_the_review_page_and_api_say_why(self):
        found = self.ingest(self.reply(CAROL, "Still broken."))
        self.assert_held(found, "no authentication information", "SUSTAIN_MAIL_UNAUTHENTICATED")
        client = Client()
        client.force_login(self.alice)
        page = client.get("/mail/").content.decode()
        self.assertIn("no authentication information", page)
        detail = client.get(f"/mail/{found.pk}").content.decode()
        self.assertIn("not authenticated", detail)
        api = self.api(self.alice).get("/api/v1/mail/inbound?status=held").json()
        row = next(r for r in api["results"] if r["id"] == found.pk)
        self.assertEqual(row["authentication"]["result"], "none")
        self.assertIn("no DKIM signature", row["authentication"]["reason"])


class ReplyTokenTests(OnATicket):
    def notice_reply_to(self) -> str:
        with self.captureOnCommitCallbacks(execute=True):
            desk.add_comment(self.alice, self.ticket, "Which browser?")
        outbox.deliver_due()
        notice = self.sent_to("carol@acme.test")[-1]
        return notice.extra_headers["Reply-To"]

    def test_notifications_to_a_customer_carry_a_signed_reply_address_and_agents_none(self):
        address = parseaddr(self.notice_reply_to())[1]
        local, domain = address.split("@")
        self.assertEqual(domain, "sustain.localhost")
        self.assertTrue(local.startswith("support+r-"))
        self.assertLessEqual(len(local), 64)
        self.ingest(self.reply(CAROL, "Firefox."))
        to_alice = self.sent_to("alice@northwind.test")[-1]
        self.assertNotIn("Reply-To", to_alice.extra_headers)

    def test_a_reply_to_the_token_address_is_the_customers_whatever_its_from(self):
        address = parseaddr(self.notice_reply_to())[1]
        raw = mails.plain("Carol at home <carol@home.test>", "Re: your mail", "Firefox.")
        found = self.ingest(raw.replace(f"To: {mails.SUPPORT}".encode(), f"To: {address}".encode()))
        self.assertEqual((found.status, found.ticket), ("appended", self.ticket), found.reason)
        self.assertEqual(found.comment.author, self.carol)
        self.assertEqual(found.auth_method, "token")
        self.assertIn("sent from carol@home.test", found.auth_reason)

    def test_a_token_reply_from_an_agents_address_is_added_as_the_customer_never_the_agent(self):
        address = parseaddr(self.notice_reply_to())[1]
        raw = mails.plain(ALICE, "Re: x", "I am the agent, honest.")
        found = self.ingest(raw.replace(f"To: {mails.SUPPORT}".encode(), f"To: {address}".encode()))
        self.assertEqual((found.comment.author, found.comment.is_public), (self.carol, True))

    def test_a_tampered_token_authenticates_nobody(self):
        address = parseaddr(self.notice_reply_to())[1]
        local, domain = address.split("@")
        tampered = f"{local[:-1]}{'a' if local[-1] != 'a' else 'b'}@{domain}"
        raw = mails.plain("Mallory <mallory@unknown.test>", "Re: x", "Send me the logs.")
        found = self.ingest(
            raw.replace(f"To: {mails.SUPPORT}".encode(), f"To: {tampered}".encode())
        )
        self.assertEqual(found.status, "held")
        self.assertNotEqual(found.auth_method, "token")
        self.assertIn("reply token in the recipient address does not verify", found.auth_reason)
        self.assertFalse(Comment.objects.filter(ticket=self.ticket, author=self.carol).exists())

    def test_a_token_for_another_ticket_cannot_be_spliced(self):
        other = self.open_ticket(self.dave, title="Globex thing")
        token = tokens.make(self.carol.pk, self.ticket.pk)
        spliced = token.replace(f"-{tokens._b36(self.ticket.pk)}-", f"-{tokens._b36(other.pk)}-")
        self.assertEqual(tokens.read([f"support+{spliced}@x.test"]), (None, True))

    def test_a_staff_token_never_authenticates_an_agent(self):
        address = f"support+{tokens.make(self.alice.pk, self.ticket.pk)}@sustain.localhost"
        raw = mails.plain(ALICE, "Re: x", "Closing this.")
        found = self.ingest(raw.replace(f"To: {mails.SUPPORT}".encode(), f"To: {address}".encode()))
        self.assert_held(found, "an agent's address must be authenticated", "token of staff")

    def test_the_envelope_recipient_of_the_smtp_receiver_carries_the_token(self):
        address = parseaddr(self.notice_reply_to())[1]
        raw = mails.plain("carol@home.test", "Re: x", "Over SMTP.")
        with (
            running_receiver() as port,
            self.captureOnCommitCallbacks(execute=True),
            smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp,
        ):
            smtp.sendmail("carol@home.test", [address], raw)
        found = InboundMail.objects.get(subject="Re: x")
        self.assertEqual((found.auth_method, found.comment.author), ("token", self.carol))

    def test_the_pipe_takes_the_envelope_recipient_with_its_token(self):
        address = parseaddr(self.notice_reply_to())[1]
        raw = mails.plain("carol@home.test", "Re: piped", "Through the pipe.")
        with self.captureOnCommitCallbacks(execute=True):
            call_command(
                "mail", "ingest", "--recipient", address, stdin=BytesIO(raw), stdout=StringIO()
            )
        found = InboundMail.objects.get(subject="Re: piped")
        self.assertEqual((found.auth_method, found.comment.author), ("token", self.carol))


class CcTests(IngestCase):
    CC = "Cathy <cathy@acme.test>, Vendor <ops@vendor.test>"

    def test_a_forged_cc_is_not_copied_and_hears_nothing(self):
        found = self.ingest(mails.plain(CAROL, "Disk full", "Again.", Cc=self.CC))
        ticket = found.ticket
        self.assertEqual(found.status, "opened", "unsigned customer mail is accepted by default")
        self.assertFalse(ticket.cc.exists())
        self.assertNotIn(self.cathy, ticket.watchers.all())
        self.assertIn("ops@vendor.test: the sender is not authenticated", found.cc_ignored)
        sent.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            desk.add_comment(self.alice, ticket, "Cleaned up /var.")
        outbox.deliver_due()
        self.assertFalse(self.sent_to("ops@vendor.test"))

    def test_an_authenticated_customers_cc_copies_the_organizations_people_only(self):
        DomainRoute.objects.create(domain="acme-ops.test", organization=self.acme)
        cc = f"{self.CC}, night@acme-ops.test"
        raw = signing.sign(mails.plain(CAROL, "Disk full", "Again.", Cc=cc), "acme.test")
        with signing.published("acme.test"):
            found = self.ingest(raw)
        self.assertEqual(
            sorted(found.ticket.cc.values_list("email", flat=True)),
            ["cathy@acme.test", "night@acme-ops.test"],
        )
        self.assertEqual(found.cc_ignored, "ops@vendor.test: neither a user nor a domain of Acme")
        api = self.api(self.alice).get(f"/api/v1/mail/inbound/{found.pk}").json()
        self.assertEqual(api["cc_ignored"], [found.cc_ignored])

    def test_an_authenticated_agents_cc_is_the_agent_adding_it(self):
        ticket = self.open_ticket(self.carol, title="Disk full")
        raw = mails.plain(ALICE, f"Re: [{ticket.key}]", "Looping in the vendor.", Cc=self.CC)
        with signing.published("northwind.test"):
            found = self.ingest(signing.sign(raw, "northwind.test"))
        self.assertEqual(
            sorted(ticket.cc.values_list("email", flat=True)),
            ["cathy@acme.test", "ops@vendor.test"],
        )
        self.assertEqual(found.cc_ignored, "")


class VerdictTests(IngestCase):
    """authenticate() on its own, with the DNS function passed in."""

    def verdict(self, raw: bytes, answers: dict[str, bytes] | None = None):
        answers = answers or {}
        return authentication.authenticate(
            raw, parse(raw), dnsfunc=lambda name, timeout=5: answers.get(name)
        )

    def test_no_signature_and_no_policy_is_none(self):
        verdict = self.verdict(mails.plain(CAROL, "x", "y"))
        self.assertEqual((verdict.result, verdict.method), ("none", "none"))
        self.assertFalse(verdict.authenticated)

    def test_an_organizational_dmarc_policy_covers_subdomains_by_sp(self):
        raw = mails.plain("x@eu.acme.test", "x", "y")
        lax = self.verdict(raw, {"_dmarc.acme.test": b"v=DMARC1; p=reject; sp=none"})
        self.assertEqual(lax.result, "none")
        strict = self.verdict(raw, {"_dmarc.acme.test": b"v=DMARC1; p=reject"})
        self.assertEqual(strict.result, "fail")

    def test_a_dns_answer_is_reused_for_the_next_mail(self):
        with offline_dns.records({}):
            self.ingest(mails.plain(CAROL, "One", "x"))
            self.ingest(mails.plain(CAROL, "Two", "y"))
            self.assertEqual(offline_dns.asked.count("_dmarc.acme.test"), 1)

    def test_alignment_is_by_organizational_domain(self):
        self.assertTrue(authentication.aligned("mail.acme.co.uk", "acme.co.uk"))
        self.assertFalse(authentication.aligned("evil.co.uk", "acme.co.uk"))
        self.assertFalse(authentication.aligned("", "acme.test"))
