"""Attachments: typed from their bytes, limited in size, downloaded only by who may see them."""

import base64

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from sustain.core.errors import Forbidden, Invalid
from sustain.desk import actions as desk
from sustain.desk.models import Attachment
from tests.base import SustainTestCase

# A real 1×1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
# The start of a Windows executable: "MZ" header and the PE signature offset.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


class AttachmentUploadTests(SustainTestCase):
    def setUp(self):
        self.ticket = self.open_ticket(self.carol, title="Logo is broken")
        self.url = f"/api/v1/tickets/{self.ticket.key}/attachments"

    def upload(self, user, name, content, content_type="application/octet-stream", **data):
        api = self.api(user)
        return api.client.post(
            self.url,
            {"file": SimpleUploadedFile(name, content, content_type=content_type), **data},
            headers=api.headers,
        )

    def test_an_image_is_stored_with_the_type_read_from_its_bytes(self):
        response = self.upload(self.carol, "screenshot.png", PNG, content_type="text/html")
        self.assertEqual(response.status_code, 201)
        body = response.json()
        self.assertEqual(body["content_type"], "image/png")
        self.assertEqual(body["filename"], "screenshot.png")
        self.assertEqual(body["size"], len(PNG))
        self.assertTrue(body["is_public"])
        attachment = Attachment.objects.get()
        self.assertEqual(attachment.file.read(), PNG)

    def test_text_named_like_an_image_is_refused_naming_the_file_field(self):
        response = self.upload(self.carol, "screenshot.png", b"<script>alert(1)</script>")
        self.assertEqual(response.status_code, 422)
        body = response.json()
        self.assertEqual(body["errors"][0]["field"], "file")
        self.assertIn("not accepted", body["detail"])
        self.assertFalse(Attachment.objects.exists())

    def test_an_executable_is_refused_whatever_its_name(self):
        for name in ("setup.exe", "report.pdf", "notes.txt"):
            with self.subTest(name=name):
                response = self.upload(self.carol, name, EXE)
                self.assertEqual(response.status_code, 422)
                self.assertEqual(response.json()["errors"][0]["field"], "file")
        self.assertFalse(Attachment.objects.exists())

    def test_text_is_accepted_under_a_text_extension(self):
        response = self.upload(self.carol, "app.log", "ERROR: naïve café ☕\n".encode())
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json()["content_type"], "text/plain")
        csv = self.upload(self.carol, "rows.csv", b"a,b\n1,2\n")
        self.assertEqual(csv.json()["content_type"], "text/csv")

    def test_binary_under_a_text_extension_is_refused(self):
        response = self.upload(self.carol, "dump.txt", b"\x00\x01\x02binary\xff")
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "file")

    def test_an_empty_file_is_refused(self):
        with self.assertRaises(Invalid) as refused:
            desk.add_attachment(self.carol, self.ticket, "empty.txt", b"")
        self.assertEqual(refused.exception.errors[0]["field"], "file")

    @override_settings(ATTACHMENT_MAX_BYTES=1024 * 1024)
    def test_a_file_over_the_size_limit_is_refused(self):
        at_limit = b"a" * (1024 * 1024)
        self.assertEqual(self.upload(self.carol, "big.txt", at_limit).status_code, 201)
        response = self.upload(self.carol, "bigger.txt", at_limit + b"a")
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "file")
        self.assertIn("larger than 1 MiB", response.json()["detail"])
        self.assertEqual(Attachment.objects.count(), 1)

    def test_a_path_in_the_filename_is_dropped(self):
        attachment = desk.add_attachment(self.carol, self.ticket, "../../etc/passwd.txt", b"x")
        self.assertEqual(attachment.filename, "passwd.txt")
        self.assertNotIn("..", attachment.file.name)

    def test_customers_cannot_add_internal_attachments(self):
        with self.assertRaises(Forbidden):
            desk.add_attachment(self.carol, self.ticket, "a.txt", b"x", is_public=False)
        response = self.upload(self.carol, "a.txt", b"x", is_public="false")
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Attachment.objects.exists())

    def test_outsiders_cannot_attach(self):
        response = self.upload(self.dave, "a.txt", b"x")
        self.assertEqual(response.status_code, 404)
        self.assertFalse(Attachment.objects.exists())

    def test_a_file_in_a_refused_reply_is_not_kept(self):
        with self.assertRaises(Invalid):
            desk.add_comment(self.carol, self.ticket, "See attached", uploads=[("x.exe", EXE)])
        self.assertFalse(self.ticket.comments.exists())
        self.assertFalse(Attachment.objects.exists())

    def test_a_file_on_an_internal_note_is_internal(self):
        note = desk.add_comment(
            self.alice, self.ticket, "trace", is_public=False, uploads=[("trace.log", b"boom")]
        )
        attachment = Attachment.objects.get()
        self.assertEqual(attachment.comment, note)
        self.assertFalse(attachment.is_public)


class AttachmentVisibilityTests(SustainTestCase):
    def setUp(self):
        self.ticket = self.open_ticket(self.carol, title="Logo is broken")
        self.public = desk.add_attachment(self.carol, self.ticket, "logo.png", PNG)
        self.internal = desk.add_attachment(
            self.alice, self.ticket, "server.log", b"secret stack trace", is_public=False
        )

    def download(self, user, attachment):
        client = Client()
        client.force_login(user)
        return client.get(f"/attachments/{attachment.pk}")

    def test_a_customer_downloads_a_public_file_as_an_attachment(self):
        response = self.download(self.cathy, self.public)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b"".join(response.streaming_content), PNG)
        self.assertEqual(response["Content-Type"], "image/png")
        self.assertTrue(response["Content-Disposition"].startswith("attachment"))
        self.assertIn("logo.png", response["Content-Disposition"])
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")

    def test_an_internal_file_is_not_served_to_customers(self):
        self.assertEqual(self.download(self.carol, self.internal).status_code, 404)
        agent = self.download(self.bob, self.internal)
        self.assertEqual(agent.status_code, 200)
        self.assertEqual(b"".join(agent.streaming_content), b"secret stack trace")

    def test_outsiders_get_404_for_any_file(self):
        self.assertEqual(self.download(self.dave, self.public).status_code, 404)
        self.assertEqual(self.download(self.dave, self.internal).status_code, 404)

    def test_anonymous_visitors_are_sent_to_log_in(self):
        response = Client().get(f"/attachments/{self.public.pk}")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/login/", response["Location"])

    def test_the_desk_download_link_follows_the_same_rules(self):
        client = Client()
        client.force_login(self.carol)
        self.assertEqual(client.get(f"/desk/a/{self.public.pk}").status_code, 200)
        self.assertEqual(client.get(f"/desk/a/{self.internal.pk}").status_code, 404)

    def test_customers_do_not_see_internal_files_in_the_list(self):
        customer = self.api(self.carol).get(f"/api/v1/tickets/{self.ticket.key}/attachments")
        agent = self.api(self.alice).get(f"/api/v1/tickets/{self.ticket.key}/attachments")
        self.assertEqual([a["filename"] for a in customer.json()], ["logo.png"])
        self.assertEqual([a["filename"] for a in agent.json()], ["logo.png", "server.log"])
        self.assertEqual(customer.json()[0]["download_url"], f"/desk/a/{self.public.pk}")

    def test_when_customers_see_only_their_own_tickets_a_colleagues_files_are_hidden(self):
        self.acme.customers_see_all_tickets = False
        self.acme.save()
        self.assertEqual(self.download(self.cathy, self.public).status_code, 404)
        self.assertEqual(self.download(self.carol, self.public).status_code, 200)
