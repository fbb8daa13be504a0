"""A form or multipart body sent with a session to an operation that takes JSON is a 415 in the
API's error format, not a server error; an address under /api/ that names nothing is a JSON 404."""

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


class ApiNotFoundTests(SustainTestCase):
    def test_an_address_under_api_that_names_no_operation_is_a_json_404(self) -> None:
        for path in ("/api/v1/nope", "/api/v1/tickets/", "/api/v2/tickets"):
            answer = self.client.get(path)
            self.assertEqual(answer.status_code, 404, path)
            self.assertEqual(answer["Content-Type"], "application/json")
            self.assertIn("No API operation", answer.json()["detail"])
