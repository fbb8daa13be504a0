"""Held mail reviewed by agents: the page, the API, release and dismiss."""

from __future__ import annotations

from django.test import Client

from sustain.accounts import actions as accounts
from sustain.accounts.models import Role, User
from sustain.desk.models import Comment, Ticket
from sustain.mail.actions import ingest
from sustain.mail.models import InboundMail
from tests.base import SustainTestCase
from tests.mail import mails

CAROL = "Carol Customer <carol@acme.test>"


class ReviewCase(SustainTestCase):
    def setUp(self):
        first = ingest(mails.plain(CAROL, "Checkout returns 502", "Orders fail."))
        self.ticket = first.ticket
        self.foreign = ingest(
            mails.plain(
                "Dave Outsider <dave@globex.test>",
                f"Re: [{self.ticket.key}] Checkout returns 502",
                "Same here at Globex.\n\n> Orders fail.",
                in_reply_to=f"<{first.message_id}>",
            )
        )
        self.stranger = ingest(mails.plain("Sven <sven@partner.test>", "Invoice", "Please pay."))
        assert self.foreign.status == self.stranger.status == "held"

    def web(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client


class ReviewPageTests(ReviewCase):
    def test_agents_see_held_mail_and_each_in_full(self):
        page = self.web(self.alice).get("/mail/")
        self.assertContains(page, "Invoice")
        self.assertContains(page, f"Re: [{self.ticket.key}] Checkout returns 502")
        detail = self.web(self.alice).get(f"/mail/{self.foreign.pk}")
        self.assertContains(detail, "&gt; Orders fail.")  # quotes included
        self.assertContains(detail, f'href="/desk/t/{self.ticket.key}"')  # what it answers

    def test_customers_are_turned_away(self):
        self.assertEqual(self.web(self.carol).get("/mail/").status_code, 403)
        self.assertEqual(self.web(self.dave).get(f"/mail/{self.foreign.pk}").status_code, 403)

    def test_an_agent_sees_only_the_mail_of_customers_they_serve(self):
        sam = accounts.create_user(
            self.root,
            email="sam@northwind.test",
            name="Sam",
            organization=self.provider,
            role=Role.AGENT,
            serves_all_organizations=False,
            served_organizations=[self.acme],
        )
        self.assertEqual(self.web(sam).get(f"/mail/{self.foreign.pk}").status_code, 404)
        page = self.web(sam).get("/mail/")
        self.assertNotContains(page, "Checkout returns 502")  # dave's (Globex) mail
        self.assertContains(page, "Invoice")  # nobody's yet

    def test_release_into_a_ticket_quotes_the_sender_in_the_agents_name(self):
        response = self.web(self.alice).post(
            f"/mail/{self.foreign.pk}", {"ticket": self.ticket.key, "is_public": "on"}
        )
        self.assertRedirects(response, f"/mail/{self.foreign.pk}")
        self.foreign.refresh_from_db()
        comment = self.foreign.comment
        self.assertEqual((self.foreign.status, self.foreign.released_by), ("appended", self.alice))
        self.assertEqual(
            (comment.author, comment.is_public, comment.ticket), (self.alice, True, self.ticket)
        )
        self.assertTrue(
            comment.body.startswith("**E-mail from Dave Outsider <dave@globex.test>:**")
        )
        self.assertIn("Same here at Globex.", comment.body)

    def test_release_of_a_stranger_as_a_new_ticket_makes_them_a_customer(self):
        response = self.web(self.alice).post(
            f"/mail/{self.stranger.pk}", {"organization": self.acme.pk, "title": "Partner invoice"}
        )
        self.assertEqual(response.status_code, 302)
        self.stranger.refresh_from_db()
        ticket = self.stranger.ticket
        self.assertEqual(
            (ticket.title, ticket.organization, ticket.channel),
            ("Partner invoice", self.acme, "email"),
        )
        self.assertEqual(
            (ticket.requester.email, ticket.requester.name), ("sven@partner.test", "Sven")
        )

    def test_a_release_that_fails_shows_why(self):
        response = self.web(self.alice).post(f"/mail/{self.foreign.pk}", {"ticket": "INC-99999"})
        self.assertContains(response, "No ticket INC-99999", status_code=422)

    def test_dismiss(self):
        self.web(self.alice).post(f"/mail/{self.stranger.pk}/dismiss")
        self.stranger.refresh_from_db()
        self.assertEqual((self.stranger.status, self.stranger.released_by), ("ignored", self.alice))
        again = self.web(self.alice).post(
            f"/mail/{self.stranger.pk}", {"organization": self.acme.pk}
        )
        self.assertContains(again, "no longer held", status_code=422)

    def test_the_timeline_links_a_mailed_comment_to_its_whole_mail(self):
        reply = ingest(mails.plain(CAROL, f"Re: [{self.ticket.key}]", "More.\n\n> quoted"))
        page = self.web(self.alice).get(f"/desk/t/{self.ticket.key}")
        link = f"/mail/?comment={reply.comment.pk}"
        self.assertContains(page, link)
        self.assertRedirects(self.web(self.alice).get(link), f"/mail/{reply.pk}")
        listing = self.web(self.alice).get(f"/mail/?ticket={self.ticket.key}")
        self.assertContains(listing, "Checkout returns 502")
        self.assertNotContains(listing, "Invoice")


class ReviewApiTests(ReviewCase):
    def test_list_held_mail_and_read_one(self):
        api = self.api(self.alice)
        held = api.get("/api/v1/mail/inbound", status="held").json()["results"]
        self.assertEqual({m["id"] for m in held}, {self.foreign.pk, self.stranger.pk})
        one = api.get(f"/api/v1/mail/inbound/{self.foreign.pk}").json()
        self.assertEqual(
            (one["answers"], one["organization"], one["status"]),
            (self.ticket.key, "globex", "held"),
        )
        self.assertIn("> Orders fail.", one["text"])

    def test_customers_see_no_mail(self):
        listing = self.api(self.carol).get("/api/v1/mail/inbound")
        self.assertEqual((listing.status_code, listing.json()["results"]), (200, []))
        one = self.api(self.carol).get(f"/api/v1/mail/inbound/{self.stranger.pk}")
        self.assertEqual(one.status_code, 403)

    def test_release_as_a_new_ticket_of_the_senders_organization(self):
        response = self.api(self.alice).post(
            f"/api/v1/mail/inbound/{self.foreign.pk}/release", {"organization": "globex"}
        )
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        ticket = Ticket.objects.get(key=body["ticket"])
        self.assertEqual(
            (body["status"], ticket.organization, ticket.requester),
            ("opened", self.globex, self.dave),
        )
        self.assertEqual(ticket.title, "Checkout returns 502")

    def test_release_into_a_ticket_the_sender_may_now_see_is_their_own_reply(self):
        sven = accounts.create_user(
            self.root, email="sven@partner.test", name="Sven", organization=self.acme
        )
        response = self.api(self.alice).post(
            f"/api/v1/mail/inbound/{self.stranger.pk}/release", {"ticket": self.ticket.key}
        )
        self.assertEqual(response.status_code, 200, response.content)
        comment = Comment.objects.get(pk=InboundMail.objects.get(pk=self.stranger.pk).comment_id)
        self.assertEqual(
            (comment.author, comment.body, comment.channel, comment.is_public),
            (sven, "Please pay.", "email", True),
        )

    def test_release_needs_a_target_and_one_that_agrees(self):
        api = self.api(self.alice)
        mismatch = api.post(
            f"/api/v1/mail/inbound/{self.stranger.pk}/release",
            {"ticket": self.ticket.key, "organization": "globex"},
        )
        self.assertEqual(mismatch.status_code, 422)
        neither = api.post(f"/api/v1/mail/inbound/{self.stranger.pk}/release", {})
        self.assertEqual(neither.status_code, 422)
        self.assertEqual(neither.json()["errors"][0]["field"], "organization")
        self.assertEqual(InboundMail.objects.get(pk=self.stranger.pk).status, "held")

    def test_dismiss_then_release_conflicts(self):
        api = self.api(self.alice)
        self.assertEqual(
            api.post(f"/api/v1/mail/inbound/{self.stranger.pk}/dismiss").json()["status"], "ignored"
        )
        again = api.post(
            f"/api/v1/mail/inbound/{self.stranger.pk}/release", {"organization": "acme"}
        )
        self.assertEqual(again.status_code, 409)
