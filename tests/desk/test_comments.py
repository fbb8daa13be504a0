"""Public replies and internal notes: who sees them, how they move the ticket, who is mailed."""

from django.core import mail
from django.test import Client

from sustain.core import outbox
from sustain.core.errors import Forbidden, Invalid, NotFound
from sustain.core.models import Event
from sustain.desk import actions as desk
from sustain.desk import queries
from sustain.desk.models import Comment, Status
from tests.base import SustainTestCase

SECRET = "Customer's DB password is hunter2"


class CommentTests(SustainTestCase):
    def setUp(self):
        self.ticket = self.open_ticket(self.carol, title="Reports are empty", watchers=[self.cathy])
        self.flush_mail()

    def flush_mail(self):
        outbox.deliver_due()
        mail.outbox.clear()

    def reply(self, actor, body, **kwargs):
        with self.captureOnCommitCallbacks(execute=True):
            comment = desk.add_comment(actor, self.ticket, body, **kwargs)
        outbox.deliver_due()
        self.ticket.refresh_from_db()
        return comment

    def test_an_agents_public_reply_opens_a_new_ticket(self):
        self.reply(self.alice, "Looking into it.")
        self.assertEqual(self.ticket.status, Status.OPEN)
        event = Event.objects.get(
            target_type="desk.ticket", target_id=self.ticket.pk, verb="status_changed"
        )
        self.assertEqual((event.before, event.after), ({"status": "new"}, {"status": "open"}))

    def test_an_internal_note_leaves_a_new_ticket_new(self):
        self.reply(self.alice, "Probably the cron job.", is_public=False)
        self.assertEqual(self.ticket.status, Status.NEW)

    def test_a_customer_reply_on_a_pending_ticket_reopens_it(self):
        desk.transition(self.alice, self.ticket, Status.PENDING)
        self.reply(self.cathy, "Here is the export you asked for.")
        self.assertEqual(self.ticket.status, Status.OPEN)

    def test_a_customer_reply_on_a_resolved_ticket_reopens_it(self):
        # The customer was told: "Resolved: reply if the problem is still there."
        desk.transition(self.alice, self.ticket, Status.RESOLVED)
        self.reply(self.carol, "Still empty this morning.")
        self.assertEqual(self.ticket.status, Status.OPEN)
        self.assertIsNone(self.ticket.resolved_at)
        event = Event.objects.filter(target_id=self.ticket.pk, verb="reopened").get()
        self.assertEqual((event.actor, event.after), (self.carol, {"status": "open"}))

    def test_an_agent_note_on_a_resolved_ticket_leaves_it_resolved(self):
        desk.transition(self.alice, self.ticket, Status.RESOLVED)
        self.reply(self.alice, "Customer confirmed by phone.", is_public=False)
        self.reply(self.alice, "Glad it works.")
        self.assertEqual(self.ticket.status, Status.RESOLVED)

    def test_an_agent_reply_on_a_pending_ticket_keeps_it_waiting(self):
        desk.transition(self.alice, self.ticket, Status.PENDING)
        self.reply(self.alice, "Any news?")
        self.assertEqual(self.ticket.status, Status.PENDING)

    def test_a_public_reply_mails_requester_and_watchers_but_not_the_author(self):
        desk.watch(self.alice, self.ticket, self.bob)
        self.reply(self.alice, "Fixed in 2.4.2.")
        recipients = sorted(m.to[0] for m in mail.outbox)
        self.assertEqual(recipients, ["bob@northwind.test", "carol@acme.test", "cathy@acme.test"])
        message = mail.outbox[0]
        self.assertIn(self.ticket.key, message.subject)
        self.assertIn("Fixed in 2.4.2.", message.body)
        self.assertEqual(message.extra_headers["X-Sustain-Ticket"], self.ticket.key)

    def test_a_customer_reply_is_not_mailed_back_to_its_author(self):
        self.reply(self.carol, "Still broken.")
        self.assertEqual([m.to for m in mail.outbox], [["cathy@acme.test"]])

    def test_an_internal_note_mails_nobody(self):
        self.reply(self.alice, SECRET, is_public=False)
        self.assertEqual(mail.outbox, [])

    def test_an_empty_comment_is_refused(self):
        with self.assertRaises(Invalid) as refused:
            desk.add_comment(self.alice, self.ticket, "   \n ")
        self.assertEqual(refused.exception.errors[0]["field"], "body")
        self.assertFalse(Comment.objects.exists())

    def test_customers_cannot_write_internal_notes(self):
        with self.assertRaises(Forbidden):
            desk.add_comment(self.carol, self.ticket, "psst", is_public=False)
        response = self.api(self.carol).post(
            f"/api/v1/tickets/{self.ticket.key}/comments", {"body": "psst", "is_public": False}
        )
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Comment.objects.exists())

    def test_outsiders_cannot_comment(self):
        with self.assertRaises(NotFound):
            desk.add_comment(self.dave, self.ticket, "Hello?")
        response = self.api(self.dave).post(
            f"/api/v1/tickets/{self.ticket.key}/comments", {"body": "Hello?"}
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(Comment.objects.exists())

    def test_comments_through_the_api_are_created_with_the_api_channel(self):
        response = self.api(self.alice).post(
            f"/api/v1/tickets/{self.ticket.key}/comments", {"body": "**On it**"}
        )
        self.assertEqual(response.status_code, 201)
        body = response.json()
        self.assertEqual(body["author"], "alice@northwind.test")
        self.assertEqual(body["channel"], "api")
        self.assertTrue(body["is_public"])
        self.assertIn("<strong>On it</strong>", body["body_html"])


class InternalNotesStayInternalTests(SustainTestCase):
    def setUp(self):
        self.ticket = self.open_ticket(self.carol, title="Reports are empty")
        desk.add_comment(self.alice, self.ticket, "We are on it.")
        desk.add_comment(self.alice, self.ticket, SECRET, is_public=False)
        desk.add_attachment(
            self.alice, self.ticket, "debug-notes.txt", b"stack trace", is_public=False
        )

    def test_customers_do_not_get_internal_notes_from_the_comment_list(self):
        bodies = [
            c["body"]
            for c in self.api(self.carol)
            .get(f"/api/v1/tickets/{self.ticket.key}/comments")
            .json()["results"]
        ]
        self.assertEqual(bodies, ["We are on it."])

    def test_agents_get_every_comment_from_the_list(self):
        results = self.api(self.bob).get(f"/api/v1/tickets/{self.ticket.key}/comments").json()
        self.assertEqual(
            [(c["body"], c["is_public"]) for c in results["results"]],
            [("We are on it.", True), (SECRET, False)],
        )

    def test_customers_do_not_get_internal_events(self):
        customer = self.api(self.carol).get(f"/api/v1/tickets/{self.ticket.key}/events").json()
        agent = self.api(self.alice).get(f"/api/v1/tickets/{self.ticket.key}/events").json()
        customer_verbs = [e["verb"] for e in customer["results"]]
        agent_verbs = [e["verb"] for e in agent["results"]]
        self.assertIn("noted", agent_verbs)
        self.assertIn("attached", agent_verbs)
        self.assertNotIn("noted", customer_verbs)
        self.assertNotIn("attached", customer_verbs)
        self.assertIn("commented", customer_verbs)
        self.assertTrue(all(e["is_public"] for e in customer["results"]))

    def test_the_timeline_of_a_customer_has_no_internal_note(self):
        customer_items = queries.timeline(self.carol, self.ticket)
        agent_items = queries.timeline(self.alice, self.ticket)
        self.assertNotIn(SECRET, [getattr(i, "body", "") for i in customer_items])
        self.assertIn(SECRET, [getattr(i, "body", "") for i in agent_items])

    def test_the_portal_page_never_shows_internal_notes_or_files(self):
        client = Client()
        client.force_login(self.carol)
        page = client.get(f"/portal/t/{self.ticket.key}")
        self.assertContains(page, "We are on it.")
        self.assertNotContains(page, "hunter2")
        self.assertNotContains(page, "internal note")
        self.assertNotContains(page, "debug-notes.txt")

    def test_the_agent_ticket_page_shows_internal_notes_marked_as_such(self):
        client = Client()
        client.force_login(self.bob)
        page = client.get(f"/desk/t/{self.ticket.key}")
        self.assertContains(page, "hunter2")
        self.assertContains(page, "internal note")


class CommentBodyFieldTests(SustainTestCase):
    def test_a_ticket_comment_names_body_too(self):
        response = self.api(self.alice).post(
            f"/api/v1/tickets/{self.open_ticket().key}/comments", {"body": ""}
        )
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual([e["field"] for e in response.json()["errors"]], ["body"])
