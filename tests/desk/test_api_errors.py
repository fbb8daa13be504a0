"""Every refusal from the API has the same shape: {"detail": ..., "errors": [{"field", "message"}]}
with the 4xx that describes it, and a field name the caller actually sent."""

from django.test import Client

from sustain.desk.models import Ticket
from tests.base import SustainTestCase

URL = "/api/v1/tickets"


class ApiErrorShapeTests(SustainTestCase):
    def assertError(self, response, status, field=None):
        self.assertEqual(response.status_code, status, response.content[:300])
        self.assertEqual(response["Content-Type"], "application/json; charset=utf-8")
        body = response.json()
        self.assertEqual(set(body), {"detail", "errors"})
        self.assertIsInstance(body["detail"], str)
        self.assertTrue(body["detail"])
        for error in body["errors"]:
            self.assertEqual(set(error), {"field", "message"})
        if field is not None:
            self.assertEqual([e["field"] for e in body["errors"]], [field])
        return body

    def test_a_missing_required_field_is_422_naming_it(self):
        body = self.assertError(self.api(self.carol).post(URL, {"description": "x"}), 422, "title")
        self.assertIn("title", body["detail"])

    def test_a_value_of_the_wrong_type_is_422_naming_the_field(self):
        api = self.api(self.alice)
        self.assertError(api.post(URL, {"title": "x", "impact": "high"}), 422, "impact")
        self.assertError(api.post(URL, {"title": "x", "impact": 9}), 422, "impact")
        self.assertError(api.post(URL, {"title": "x", "kind": "bug"}), 422, "kind")
        self.assertError(api.post(URL, {"title": "x" * 301}), 422, "title")

    def test_a_value_that_fits_no_accepted_type_names_the_field_once(self):
        body = self.assertError(
            self.api(self.alice).post(URL, {"title": "x", "organization": [1]}), 422, "organization"
        )
        self.assertIn("valid integer", body["errors"][0]["message"])
        self.assertError(self.api(self.alice).get(URL, created_after="soon"), 422, "created_after")

    def test_each_bad_item_of_a_list_is_named(self):
        body = self.assertError(
            self.api(self.alice).post(
                URL, {"title": "x", "organization": "acme", "tags": [1, "ok", {}]}
            ),
            422,
        )
        self.assertEqual([e["field"] for e in body["errors"]], ["tags.0", "tags.2"])

    def test_a_refusal_from_the_action_names_its_field(self):
        api = self.api(self.alice)
        self.assertError(api.post(URL, {"title": "x", "organization": "nope"}), 422, "organization")
        self.assertError(api.post(URL, {"title": "x"}), 422, "organization")
        self.assertError(
            api.post(
                URL, {"title": "x", "organization": "acme", "affected_ci": self.globex_prod.pk}
            ),
            422,
            "affected_ci",
        )
        self.assertError(
            api.post(URL, {"title": "x", "organization": "acme", "requester": "dave@globex.test"}),
            422,
            "requester",
        )
        self.assertFalse(Ticket.objects.exists())

    def test_malformed_json_is_400_not_a_crash(self):
        api = self.api(self.alice)
        response = api.client.post(
            URL, "{not json", content_type="application/json", headers=api.headers
        )
        self.assertError(response, 400)

    def test_without_a_token_it_is_401(self):
        response = Client().get(URL)
        body = self.assertError(response, 401)
        self.assertIn("Bearer", body["detail"])
        self.assertError(Client().get(URL, headers={"Authorization": "Bearer sus_nope"}), 401)

    def test_a_forbidden_operation_is_403(self):
        self.assertError(
            self.api(self.carol).post(URL, {"title": "x", "priority": 1, "priority_reason": "now"}),
            403,
        )
        self.assertFalse(Ticket.objects.exists())

    def test_an_unknown_or_invisible_ticket_is_404(self):
        ticket = self.open_ticket(self.carol)
        self.assertError(self.api(self.alice).get(f"{URL}/INC-999999"), 404)
        body = self.assertError(self.api(self.dave).get(f"{URL}/{ticket.key}"), 404)
        self.assertEqual(body["detail"], f"No ticket {ticket.key}.")

    def test_an_illegal_move_is_409(self):
        ticket = self.open_ticket(self.carol)
        self.assertError(
            self.api(self.alice).post(f"{URL}/{ticket.key}/transitions", {"status": "closed"}),
            409,
            "status",
        )
