"""GET /api/v1/similar and the `similar` list of POST /api/v1/tickets."""

from sustain.desk import actions as desk
from tests.bugs.similar.helpers import SimilarTestCase

TITLE = "Password reset e-mail never arrives"


class SimilarApiTests(SimilarTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.acme_ticket = desk.open_ticket(cls.carol, title=TITLE)
        cls.globex_ticket = desk.open_ticket(cls.dave, title=TITLE)

    def test_an_agent_gets_ranked_suggestions(self):
        bug = self.bug("Password reset mail is never delivered")
        response = self.api(self.alice).get("/api/v1/similar", title="password reset email")
        self.assertEqual(response.status_code, 200)
        rows = response.json()
        self.assertEqual(set(rows[0]), {"kind", "key", "title", "status", "score", "url"}, rows[0])
        keys = [r["key"] for r in rows]
        self.assertTrue({self.acme_ticket.key, self.globex_ticket.key, bug.key} <= set(keys))

    def test_a_customer_gets_only_what_they_may_see(self):
        rows = self.api(self.dave).get("/api/v1/similar", title=TITLE).json()
        self.assertEqual([r["key"] for r in rows], [self.globex_ticket.key])

    def test_exclude_and_limit(self):
        client = self.api(self.alice)
        rows = client.get(
            "/api/v1/similar", title=TITLE, exclude=self.acme_ticket.key, limit=1
        ).json()
        self.assertEqual([r["key"] for r in rows], [self.globex_ticket.key])
        bug = self.bug(TITLE)
        rows = client.get("/api/v1/similar", title=TITLE, exclude=bug.key).json()
        self.assertNotIn(bug.key, [r["key"] for r in rows])

    def test_an_empty_or_short_title_is_refused_naming_the_field(self):
        client = self.api(self.alice)
        for params in ({"title": ""}, {"title": "  a "}, {}):
            response = client.get("/api/v1/similar", **params)
            self.assertEqual(response.status_code, 422, params)
            self.assertEqual(response.json()["errors"][0]["field"], "title", params)
        response = client.get("/api/v1/similar", title=TITLE, exclude="INC-1; drop")
        self.assertEqual(
            (response.status_code, response.json()["errors"][0]["field"]), (422, "exclude")
        )
        response = client.get("/api/v1/similar", title=TITLE, limit=50)
        self.assertEqual(
            (response.status_code, response.json()["errors"][0]["field"]), (422, "limit")
        )

    def test_anonymous_callers_are_refused(self):
        from django.test import Client

        self.assertEqual(Client().get("/api/v1/similar", {"title": TITLE}).status_code, 401)


class TicketCreationTests(SimilarTestCase):
    def test_the_created_ticket_comes_with_similar_open_rows_but_not_itself(self):
        earlier = desk.open_ticket(self.carol, title="Checkout page times out on payment")
        desk.open_ticket(self.dave, title="Checkout page times out on payment")
        response = self.api(self.carol).post(
            "/api/v1/tickets", {"title": "Checkout times out when paying"}
        )
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual([s["key"] for s in body["similar"]], [earlier.key])
        self.assertEqual(body["similar"][0]["url"], f"/portal/t/{earlier.key}")

    def test_nothing_similar_gives_an_empty_list(self):
        response = self.api(self.alice).post(
            "/api/v1/tickets", {"title": "Rotate the VPN certificate", "organization": "acme"}
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["similar"], [])
