"""A form or multipart body sent with a session to an operation that takes JSON is a 415 in the
API's error format, not a server error (the CSRF check has already read it as a form)."""

from django.test import Client

from tests.base import SustainTestCase


class MultipartSessionTests(SustainTestCase):
    def test_a_form_body_where_json_is_expected_is_a_415_not_a_500(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.carol)
        client.get("/portal/")
        token = client.cookies["csrftoken"].value
        answer = client.post(
            "/api/v1/tickets",
            {"title": "mp"},
            headers={"X-CSRFToken": token},
        )
        self.assertEqual(answer.status_code, 415, answer.content)
        self.assertEqual(answer.json()["errors"][0]["field"], "body")
