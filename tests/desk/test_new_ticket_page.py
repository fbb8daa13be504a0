"""An agent records a ticket taken by phone on /desk/new."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sustain.desk.models import Channel, Ticket
from tests.base import SustainTestCase


class NewTicketPageTests(SustainTestCase):
    def setUp(self):
        self.client = Client()
        self.client.force_login(self.alice)

    def form(self, **fields):
        return {
            "organization": self.acme.pk,
            "requester": self.carol.pk,
            "kind": "incident",
            "title": "Caller says checkout is down",
            "impact": 1,
            "urgency": 1,
            **fields,
        }

    def test_a_phoned_in_ticket_with_a_file(self):
        response = self.client.post(
            "/desk/new",
            self.form(attachment=SimpleUploadedFile("call.txt", b"caller: Carol, 10:02")),
        )
        ticket = Ticket.objects.get()
        self.assertRedirects(response, f"/desk/t/{ticket.key}")
        self.assertEqual(
            (ticket.channel, ticket.requester, ticket.priority), (Channel.PHONE, self.carol, 1)
        )
        self.assertEqual(ticket.attachments.get().content_type, "text/plain")

    def test_a_refused_file_opens_nothing_and_is_shown_on_the_form(self):
        response = self.client.post(
            "/desk/new", self.form(attachment=SimpleUploadedFile("pic.png", b"not a picture"))
        )
        self.assertContains(response, "pic.png: files of type", status_code=422)
        self.assertIn("attachment", response.context["form"].errors)
        self.assertFalse(Ticket.objects.exists())

    def test_a_requester_of_another_organization_is_refused_next_to_the_field(self):
        response = self.client.post("/desk/new", self.form(requester=self.dave.pk))
        self.assertEqual(response.status_code, 422)
        self.assertEqual(
            response.context["form"].errors["requester"], ["dave@globex.test is not in Acme."]
        )
        self.assertFalse(Ticket.objects.exists())
