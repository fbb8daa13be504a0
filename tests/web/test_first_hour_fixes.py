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
