"""Mailboxes and domain routes are configured in the admin."""

from __future__ import annotations

from django.test import Client

from sustain.mail.models import DomainRoute, Mailbox
from tests.base import SustainTestCase


class MailAdminTests(SustainTestCase):
    def setUp(self):
        self.client = Client()
        self.client.force_login(self.root)

    def form(self, **changes) -> dict:
        return {
            "name": "Acme desk",
            "address": "Desk@Acme.Test",
            "host": "imap.acme.test",
            "port": "993",
            "security": "ssl",
            "username": "desk",
            "password": "s3cret",
            "folder": "INBOX",
            "after_fetch": "seen",
            "move_to": "",
            "organization": str(self.acme.pk),
            "team": str(self.service_desk.pk),
            "active": "on",
            **changes,
        }

    def test_a_mailbox_is_added_and_edited_without_retyping_its_password(self):
        response = self.client.post("/admin/mail/mailbox/add/", self.form())
        self.assertEqual(response.status_code, 302, response.content[:2000])
        box = Mailbox.objects.get()
        self.assertEqual((box.address, box.password), ("desk@acme.test", "s3cret"))
        page = self.client.get(f"/admin/mail/mailbox/{box.pk}/change/")
        self.assertNotContains(page, "s3cret")
        self.client.post(
            f"/admin/mail/mailbox/{box.pk}/change/", self.form(password="", port="995")
        )
        box.refresh_from_db()
        self.assertEqual((box.port, box.password), (995, "s3cret"))

    def test_moving_needs_a_folder(self):
        response = self.client.post("/admin/mail/mailbox/add/", self.form(after_fetch="move"))
        self.assertContains(response, "Name the folder fetched mail is moved to.")
        self.assertFalse(Mailbox.objects.exists())

    def test_a_domain_route_is_stored_in_lower_case(self):
        self.client.post(
            "/admin/mail/domainroute/add/", {"domain": "@Acme.Test ", "organization": self.acme.pk}
        )
        self.assertEqual(DomainRoute.objects.get().domain, "acme.test")
