"""The customer portal: the organization's tickets (or only one's own), reporting and replying."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sustain.accounts import actions as accounts
from sustain.bugs import actions as bugs
from sustain.desk import actions as desk
from sustain.desk.models import Channel, Comment, Status, Ticket
from tests.bugs.base import BugTestCase
from tests.desk.queue_data import KEY, QueueData


class PortalListTests(QueueData):
    def shown(self, user, **params) -> list[str]:
        client = Client()
        client.force_login(user)
        response = client.get("/portal/", params)
        self.assertEqual(response.status_code, 200)
        return KEY.findall(response.content.decode())

    def test_customers_see_their_organizations_open_tickets(self):
        self.assertEqual(self.shown(self.cathy), self.keys(self.printer, self.access, self.invoice))
        self.assertEqual(self.shown(self.dave), self.keys(self.globex_ticket, self.cafe))

    def test_all_tickets_includes_resolved_ones(self):
        self.assertEqual(
            self.shown(self.carol, show="all"),
            self.keys(self.printer, self.access, self.invoice, self.done),
        )

    def test_with_the_setting_off_customers_see_only_their_own_tickets(self):
        accounts.update_organization(self.root, self.acme, customers_see_all_tickets=False)
        self.assertEqual(
            self.shown(self.carol, show="all"), self.keys(self.printer, self.access, self.done)
        )
        self.assertEqual(self.shown(self.cathy, show="all"), self.keys(self.invoice))
        client = Client()
        client.force_login(self.cathy)
        self.assertEqual(client.get(f"/portal/t/{self.printer.key}").status_code, 404)
        # Globex keeps the default.
        self.assertEqual(self.shown(self.dave), self.keys(self.globex_ticket, self.cafe))

    def test_search_within_ones_tickets(self):
        self.assertEqual(
            self.shown(self.carol, q="invoice", show="all"), self.keys(self.printer, self.invoice)
        )
        self.assertEqual(self.shown(self.carol, q="café", show="all"), [])

    def test_another_organizations_ticket_page_is_404(self):
        client = Client()
        client.force_login(self.carol)
        self.assertEqual(client.get(f"/portal/t/{self.cafe.key}").status_code, 404)

    def test_status_is_told_in_words(self):
        client = Client()
        client.force_login(self.cathy)
        page = client.get(f"/portal/t/{self.invoice.key}")
        self.assertContains(page, "Waiting for your reply.")

    def test_anonymous_visitors_are_sent_to_log_in(self):
        response = Client().get("/portal/")
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith("/login/"))


class PortalReportAndReplyTests(QueueData):
    def setUp(self):
        self.client = Client()
        self.client.force_login(self.cathy)

    def test_reporting_a_problem_with_a_screenshot(self):
        response = self.client.post(
            "/portal/new",
            {
                "kind": "incident",
                "title": "Totals wrong on page 2",
                "description": "See file",
                "affected_ci": self.acme_prod.pk,
                "impact": 2,
                "urgency": 1,
                "attachment": SimpleUploadedFile("notes.txt", b"page 2 total: 13.37"),
            },
        )
        ticket = Ticket.objects.get(title="Totals wrong on page 2")
        self.assertRedirects(response, f"/portal/t/{ticket.key}")
        self.assertEqual((ticket.requester, ticket.organization), (self.cathy, self.acme))
        self.assertEqual((ticket.channel, ticket.priority), (Channel.WEB, 2))
        self.assertEqual(ticket.attachments.get().filename, "notes.txt")

    def test_a_refused_attachment_keeps_the_form_and_names_the_problem(self):
        response = self.client.post(
            "/portal/new",
            {
                "kind": "incident",
                "title": "With a bad file",
                "impact": 2,
                "urgency": 2,
                "attachment": SimpleUploadedFile("virus.exe", b"MZ" + b"\x00" * 100),
            },
        )
        self.assertContains(response, "virus.exe: files of type", status_code=422)
        self.assertEqual(response.context["form"].errors["attachment"][0][:9], "virus.exe")
        self.assertEqual(response.context["form"]["title"].value(), "With a bad file")
        # Nothing was opened: sending the form again will not make a second ticket.
        self.assertFalse(Ticket.objects.filter(title="With a bad file").exists())

    def test_another_organizations_item_is_not_offered(self):
        response = self.client.post(
            "/portal/new",
            {
                "kind": "incident",
                "title": "x",
                "impact": 2,
                "urgency": 2,
                "affected_ci": self.globex_prod.pk,
            },
        )
        self.assertEqual(response.status_code, 422)
        self.assertFalse(Ticket.objects.filter(title="x").exists())

    def test_replying_to_a_pending_ticket_puts_it_back_in_progress(self):
        response = self.client.post(f"/portal/t/{self.invoice.key}/reply", {"body": "Attached."})
        self.assertRedirects(response, f"/portal/t/{self.invoice.key}")
        self.invoice.refresh_from_db()
        self.assertEqual(self.invoice.status, Status.OPEN)
        comment = Comment.objects.get(ticket=self.invoice)
        self.assertEqual((comment.author, comment.is_public), (self.cathy, True))

    def test_a_customer_cannot_sneak_an_internal_note_through_the_portal(self):
        self.client.post(f"/portal/t/{self.invoice.key}/reply", {"body": "psst", "is_public": "0"})
        self.assertTrue(Comment.objects.get(ticket=self.invoice).is_public)

    def test_replying_to_another_organizations_ticket_is_404(self):
        response = self.client.post(f"/portal/t/{self.cafe.key}/reply", {"body": "Hi"})
        self.assertEqual(response.status_code, 404)
        self.assertFalse(Comment.objects.exists())

    def test_withdrawing_ones_own_ticket(self):
        self.client.post(f"/portal/t/{self.invoice.key}/status", {"status": "cancelled"})
        self.invoice.refresh_from_db()
        self.assertEqual(self.invoice.status, Status.CANCELLED)
        self.assertContains(self.client.get(f"/portal/t/{self.invoice.key}"), "Cancelled.")

    def test_the_page_of_a_closed_ticket_has_no_reply_form(self):
        desk.transition(self.alice, self.invoice, Status.CANCELLED)
        page = self.client.get(f"/portal/t/{self.invoice.key}")
        self.assertNotContains(page, 'name="body"')


class PortalKnownProblemTests(BugTestCase):
    def test_the_linked_bug_is_shown_in_customer_words(self):
        ticket = self.open_ticket(self.carol, title="Totals are off")
        bug = self.bug(title="Totals are rounded twice", assignee=self.bob)
        bugs.link_ticket(self.alice, bug, ticket)
        bugs.add_comment(self.alice, bug, "internal-marker-5521", is_public=False)
        client = Client()
        client.force_login(self.carol)
        page = client.get(f"/portal/t/{ticket.key}").content.decode()
        self.assertIn(bug.key, page)
        self.assertIn("Totals are rounded twice", page)
        self.assertIn("Reported: the team will look at it.", page)
        self.assertNotIn("internal-marker-5521", page)
        self.assertNotIn(self.bob.name, page)

    def test_no_bug_no_list(self):
        ticket = self.open_ticket(self.carol)
        client = Client()
        client.force_login(self.carol)
        page = client.get(f"/portal/t/{ticket.key}").content.decode()
        self.assertNotIn("known-problems", page)
