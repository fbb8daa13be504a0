"""Issue 11, "things that are broken": files of a new ticket in view, saved filters that save
what is on screen, typed input kept with each error beside its field, merged tickets that keep
their conversation for the customer, destructive moves that ask first."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sustain.desk import actions as desk
from sustain.desk.models import Attachment, SavedFilter, Ticket
from tests.base import SustainTestCase

HTMX = {"HX-Request": "true"}
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class FilesOfANewTicketTests(SustainTestCase):
    """Point 4: what is attached when a ticket is opened is shown with it, images as thumbnails."""

    def setUp(self):
        self.portal = client_for(self.carol)
        response = self.portal.post(
            "/portal/new",
            {
                "kind": "incident",
                "title": "The logo is cut off",
                "description": "See the screenshot.",
                "impact": "2",
                "urgency": "2",
                "attachment": SimpleUploadedFile("screenshot.png", PNG, content_type="image/png"),
            },
        )
        self.assertEqual(response.status_code, 302)
        self.ticket = Ticket.objects.get(title="The logo is cut off")
        self.file = Attachment.objects.get(ticket=self.ticket)

    def test_customer_and_agent_see_the_screenshot_as_a_thumbnail_with_a_download_link(self):
        view = f"/attachments/{self.file.pk}?view=1"
        for client, page in (
            (self.portal, f"/portal/t/{self.ticket.key}"),
            (client_for(self.alice), f"/desk/t/{self.ticket.key}"),
        ):
            with self.subTest(page=page):
                html = client.get(page).content.decode()
                self.assertIn(f'<img src="{view}" alt="screenshot.png"', html)
                self.assertIn(f'href="/attachments/{self.file.pk}" download', html)

    def test_an_image_is_shown_in_the_browser_and_anything_else_is_downloaded(self):
        shown = self.portal.get(f"/attachments/{self.file.pk}?view=1")
        self.assertEqual(shown.status_code, 200)
        self.assertEqual(shown["Content-Type"], "image/png")
        self.assertTrue(shown["Content-Disposition"].startswith("inline"))
        self.assertIn("sandbox", shown["Content-Security-Policy"])
        self.assertEqual(b"".join(shown.streaming_content), PNG)
        text = desk.add_attachment(self.alice, self.ticket, "notes.txt", b"just text")
        refused = client_for(self.alice).get(f"/attachments/{text.pk}?view=1")
        self.assertTrue(refused["Content-Disposition"].startswith("attachment"))

    def test_internal_files_and_files_of_internal_notes_stay_with_the_staff(self):
        internal = desk.add_attachment(
            self.alice, self.ticket, "trace.txt", b"stack trace", is_public=False
        )
        note = desk.add_comment(
            self.alice, self.ticket, "Our side.", is_public=False, uploads=[("db.txt", b"dump")]
        )
        of_note = note.attachments.get()
        # A file flagged public on an internal note is still the note's.
        Attachment.objects.filter(pk=of_note.pk).update(is_public=True)
        page = self.portal.get(f"/portal/t/{self.ticket.key}").content.decode()
        self.assertNotIn("trace.txt", page)
        self.assertNotIn("db.txt", page)
        for hidden in (internal, of_note):
            self.assertEqual(self.portal.get(f"/attachments/{hidden.pk}").status_code, 404)
            self.assertEqual(self.portal.get(f"/attachments/{hidden.pk}?view=1").status_code, 404)
        desk_page = client_for(self.alice).get(f"/desk/t/{self.ticket.key}").content.decode()
        self.assertIn("trace.txt", desk_page)
        self.assertEqual(client_for(self.alice).get(f"/attachments/{internal.pk}").status_code, 200)

    def test_nobody_of_another_organization_or_another_requester_gets_the_file(self):
        self.assertEqual(
            client_for(self.dave).get(f"/attachments/{self.file.pk}?view=1").status_code, 404
        )
        self.acme.customers_see_all_tickets = False
        self.acme.save()
        cathy = client_for(self.cathy)
        self.assertEqual(cathy.get(f"/attachments/{self.file.pk}?view=1").status_code, 404)


class SavedFilterTests(SustainTestCase):
    """Point 5: the filter saved is the one on screen, not the page's query at load time."""

    def setUp(self):
        self.client = client_for(self.alice)

    def test_the_fields_of_the_filter_form_are_what_is_saved(self):
        # The page was loaded as ?queue=open, then "pending" was picked in the status filter:
        # htmx sends the filter form (#filters) with the save form.
        response = self.client.post(
            "/desk/filters",
            {
                "name": "Pending only",
                "query": "queue=open",
                "queue": "open",
                "q": "",
                "status": "pending",
                "priority": "",
                "order": "newest",
            },
            headers=HTMX,
        )
        self.assertEqual(response.status_code, 204)
        saved = SavedFilter.objects.get(owner=self.alice, name="Pending only")
        self.assertEqual(parse_qs(saved.query), {"queue": ["open"], "status": ["pending"]})
        self.assertEqual(response["HX-Redirect"], f"/desk/?{saved.query}")
        page = self.client.get(response["HX-Redirect"])
        self.assertContains(page, 'href="?queue=open&amp;status=pending">Pending only')
        self.assertContains(page, '<option value="pending" selected>')

    def test_without_javascript_the_loaded_query_is_saved(self):
        response = self.client.post(
            "/desk/filters", {"name": "Mine", "query": "?queue=mine&order=priority"}
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(SavedFilter.objects.get(name="Mine").query, "queue=mine&order=priority")

    def test_a_filter_that_cannot_work_is_not_saved(self):
        response = self.client.post(
            "/desk/filters", {"name": "Odd", "queue": "open", "status": "sleeping"}, headers=HTMX
        )
        self.assertEqual(response.status_code, 204)
        self.assertFalse(SavedFilter.objects.exists())
        page = self.client.get(response["HX-Redirect"])
        self.assertContains(page, "Unknown status", status_code=422)


class TypedInputKeptTests(SustainTestCase):
    """Point 7: a refusal shows what was typed again, with every error beside its field."""

    def setUp(self):
        self.ticket = self.open_ticket(self.carol, title="Exports are slow")

    def test_a_customer_reply_survives_a_refused_attachment(self):
        portal = client_for(self.carol)
        response = portal.post(
            f"/portal/t/{self.ticket.key}/reply",
            {
                "body": "Here is what I see, in detail.",
                "is_public": "1",
                "attachment": SimpleUploadedFile("setup.exe", b"MZ\x90\x00" + b"\x00" * 200),
            },
        )
        self.assertEqual(response.status_code, 422)
        html = response.content.decode()
        self.assertIn(">Here is what I see, in detail.</textarea>", html)
        self.assertIn('id="reply-attachment-error"', html)
        self.assertIn("not accepted", html)
        self.assertFalse(self.ticket.comments.exists())

    def test_the_desk_reply_keeps_its_text_and_its_kind(self):
        response = client_for(self.alice).post(
            f"/desk/t/{self.ticket.key}/reply",
            {
                "body": "Internal: check the job queue.",
                "is_public": "0",
                "attachment": SimpleUploadedFile("x.exe", b"MZ\x90\x00" + b"\x00" * 200),
            },
            headers=HTMX,
        )
        self.assertEqual(response.status_code, 422)
        html = response.content.decode()
        self.assertIn(">Internal: check the job queue.</textarea>", html)
        self.assertIn('value="0" checked', html)
        self.assertIn('id="reply-attachment-error"', html)

    def panel(self, action: str, data: dict):
        return client_for(self.alice).post(
            f"/desk/t/{self.ticket.key}/{action}", data, headers=HTMX
        )

    def test_a_link_to_an_unknown_ticket_is_refused_beside_the_field_with_the_key_kept(self):
        response = self.panel("link", {"target": "INC-99999", "kind": "related"})
        self.assertEqual(response.status_code, 422)
        html = response.content.decode()
        self.assertIn('value="INC-99999" aria-invalid="true"', html)
        self.assertIn('<p class="field-error" role="alert" id="target-error">', html)
        self.assertNotIn('id="merge-target-error"', html)
        self.assertNotIn("HX-Trigger", response)

    def test_a_priority_override_without_a_reason_keeps_the_chosen_priority(self):
        response = self.panel("priority", {"priority": "1", "reason": ""})
        self.assertEqual(response.status_code, 422)
        html = response.content.decode()
        self.assertIn('<option value="1" selected>', html)
        self.assertIn('id="reason-error">Overriding the matrix', html)
        self.ticket.refresh_from_db()
        self.assertNotEqual(self.ticket.priority, 1)

    def test_the_bug_form_shows_every_error_at_once(self):
        response = client_for(self.alice).post(
            "/bugs/new",
            {
                "title": "Rounding on close",
                "product": self.product.pk,
                "severity": "major",
                "priority": "3",
                "component": "No such part",
                "affected_versions": "9.9.9",
                "environment": "999999",
                "attachment": SimpleUploadedFile("setup.exe", b"MZ\x90\x00" + b"\x00" * 200),
            },
        )
        self.assertEqual(response.status_code, 422)
        form = response.context["form"]
        self.assertEqual(
            set(form.errors), {"component", "affected_versions", "environment", "attachment"}
        )
        html = response.content.decode()
        self.assertIn('value="Rounding on close"', html)
        self.assertIn("No such part", html)

    def test_the_bug_form_checks_references_even_when_a_field_is_refused(self):
        response = client_for(self.alice).post(
            "/bugs/new",
            {
                "title": "",
                "product": self.product.pk,
                "severity": "major",
                "priority": "7",
                "component": "No such part",
            },
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(set(response.context["form"].errors), {"title", "priority", "component"})


class MergedTicketTests(SustainTestCase):
    """Point 8: the customer of a merged ticket keeps the conversation, and is told where it
    went: a link when they may see that ticket, a plain note when they may not."""

    def setUp(self):
        self.original = self.open_ticket(self.carol, title="Checkout returns 502")
        self.duplicate = self.open_ticket(
            self.cathy,
            title="Cannot pay",
            uploads=[("screenshot.png", PNG)],
        )
        desk.add_comment(self.cathy, self.duplicate, "It fails at the last step.")
        desk.add_comment(self.alice, self.duplicate, "We are looking into it.")
        desk.add_comment(self.alice, self.duplicate, "Same as INC-1.", is_public=False)
        desk.merge(self.alice, self.duplicate, into=self.original)

    def page(self, user):
        response = client_for(user).get(f"/portal/t/{self.duplicate.key}")
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def test_the_customer_keeps_the_whole_public_conversation_and_a_link(self):
        html = self.page(self.cathy)
        self.assertIn("It fails at the last step.", html)
        self.assertIn("We are looking into it.", html)
        self.assertNotIn("Same as INC-1.", html)
        self.assertIn('alt="screenshot.png"', html)
        self.assertIn(f'href="/portal/t/{self.original.key}"', html)
        self.assertIn('id="merged-note"', html)

    def test_a_customer_who_may_not_see_the_other_ticket_gets_a_plain_note(self):
        self.acme.customers_see_all_tickets = False
        self.acme.save()
        html = self.page(self.cathy)
        self.assertIn("We are looking into it.", html)
        self.assertIn('alt="screenshot.png"', html)
        self.assertNotIn(self.original.key, html.split('id="merged-note"')[1].split("</p>")[0])
        self.assertIn("merged into another ticket", html)
        screenshot = Attachment.objects.get(filename="screenshot.png")
        cathy = client_for(self.cathy)
        self.assertEqual(cathy.get(f"/attachments/{screenshot.pk}?view=1").status_code, 200)
        # Carol's ticket is Carol's: Cathy still may not open it, nor Dave anything.
        self.assertEqual(cathy.get(f"/portal/t/{self.original.key}").status_code, 404)
        dave = client_for(self.dave)
        self.assertEqual(dave.get(f"/attachments/{screenshot.pk}?view=1").status_code, 404)

    def test_agents_find_the_conversation_on_the_ticket_it_was_merged_into(self):
        html = client_for(self.alice).get(f"/desk/t/{self.original.key}").content.decode()
        self.assertIn("We are looking into it.", html)
        self.assertIn("Same as INC-1.", html)
        self.assertIn(f"from {self.duplicate.key}", html)  # the screenshot, where it came from
        api = self.api(self.cathy).get(f"/api/v1/tickets/{self.duplicate.key}/comments")
        self.assertEqual(
            [c["body"] for c in api.json()["results"]],
            ["It fails at the last step.", "We are looking into it."],
        )


class ConfirmationTests(SustainTestCase):
    """Point 8: destructive moves ask first (htmx's hx-confirm; no inline script)."""

    def test_merge_asks_first_and_linking_does_not(self):
        ticket = self.open_ticket(self.carol, title="Printer on fire")
        html = client_for(self.alice).get(f"/desk/t/{ticket.key}").content.decode()
        merge = html.split('value="duplicate"')[0].rsplit("<form", 1)[1]
        self.assertIn("hx-confirm=", merge)
        link = html.split('value="related"')[0].rsplit("<form", 1)[1]
        self.assertNotIn("hx-confirm=", link)

    def test_the_customer_is_asked_before_withdrawing(self):
        ticket = self.open_ticket(self.carol, title="Printer on fire")
        html = client_for(self.carol).get(f"/portal/t/{ticket.key}").content.decode()
        withdraw = html.split('value="cancelled"')[0].rsplit("<form", 1)[1]
        self.assertIn('hx-boost="true" hx-confirm="Withdraw', withdraw)
