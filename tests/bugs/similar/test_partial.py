"""The as-you-type partial at /similar/ and its hook on the new-ticket forms."""

from django.test import Client

from sustain.desk import actions as desk
from tests.bugs.similar.helpers import SimilarTestCase

TITLE = "Mobile app sync is stuck at 99%"


class PartialTests(SimilarTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.acme_ticket = desk.open_ticket(cls.carol, title=TITLE)
        cls.globex_ticket = desk.open_ticket(cls.dave, title=TITLE)
        cls.hidden_bug = cls.bug(TITLE)

    def get(self, user, **params):
        client = Client()
        client.force_login(user)
        return client.get("/similar/", params, headers={"HX-Request": "true"})

    def test_an_agent_sees_tickets_and_bugs_opening_in_a_new_tab(self):
        response = self.get(self.alice, title="mobile sync stuck", description="at 99 %")
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        for key in (self.acme_ticket.key, self.globex_ticket.key, self.hidden_bug.key):
            self.assertIn(key, html)
        self.assertIn(f'href="/desk/t/{self.acme_ticket.key}" target="_blank"', html)
        self.assertIn("possible duplicates", html)

    def test_a_customer_is_offered_their_own_ticket_only(self):
        html = self.get(self.carol, title="mobile sync stuck").content.decode()
        self.assertIn(f'href="/portal/t/{self.acme_ticket.key}"', html)
        self.assertIn("This is my problem", html)
        self.assertNotIn(self.globex_ticket.key, html)
        self.assertNotIn(self.hidden_bug.key, html)
        self.assertNotIn("_blank", html)

    def test_a_short_or_unmatched_title_renders_nothing(self):
        self.assertEqual(self.get(self.alice, title="mo").content.decode().strip(), "")
        self.assertEqual(self.get(self.alice, title="quarterly tax").content.decode().strip(), "")

    def test_exclude_leaves_out_the_row_being_edited(self):
        html = self.get(self.alice, title=TITLE, exclude=self.hidden_bug.key).content.decode()
        self.assertNotIn(self.hidden_bug.key, html)
        html = self.get(self.alice, title=TITLE, exclude="BUG-1' OR 1").content.decode()
        self.assertIn(self.hidden_bug.key, html)  # not a key: excludes nothing

    def test_login_is_required(self):
        response = Client().get("/similar/", {"title": TITLE})
        self.assertEqual(response.status_code, 302)
        self.assertIn("/login/", response["Location"])

    def test_the_new_ticket_forms_ask_as_the_title_is_typed(self):
        for user, path in ((self.alice, "/desk/new"), (self.carol, "/portal/new")):
            client = Client()
            client.force_login(user)
            html = client.get(path).content.decode()
            self.assertIn('hx-get="/similar/"', html, path)
            self.assertIn('hx-trigger="keyup changed delay:300ms"', html, path)
            self.assertIn('hx-target="#similar"', html, path)
            self.assertIn('<div id="similar"></div>', html, path)


class TicketPageTests(SimilarTestCase):
    """The agent's ticket page loads the similar open rows, each ticket offering a merge."""

    def test_the_ticket_page_asks_for_similar_rows_excluding_itself(self):
        ticket = desk.open_ticket(self.carol, title="Sync & stuck")
        client = Client()
        client.force_login(self.alice)
        html = client.get(f"/desk/t/{ticket.key}").content.decode()
        self.assertIn(
            f'hx-get="/similar/?title=Sync%20%26%20stuck&amp;exclude={ticket.key}'
            f'&amp;merge={ticket.key}"',
            html,
        )

    def test_a_similar_ticket_offers_the_merge_that_closes_this_one(self):
        original = desk.open_ticket(self.carol, title=TITLE)
        duplicate = desk.open_ticket(self.cathy, title="Sync stuck at 99 % on the mobile app")
        client = Client()
        client.force_login(self.alice)
        html = client.get(
            "/similar/",
            {"title": duplicate.title, "exclude": duplicate.key, "merge": duplicate.key},
        ).content.decode()
        self.assertIn(f'hx-post="/desk/t/{duplicate.key}/link"', html)
        self.assertIn(f'name="target" value="{original.key}"', html)
        self.assertNotIn(f'value="{duplicate.key}"', html)
        # The form it renders merges (desk.actions.merge behind the link view).
        response = client.post(
            f"/desk/t/{duplicate.key}/link",
            {"target": original.key, "kind": "duplicate"},
            headers={"HX-Request": "true"},
        )
        self.assertEqual(response.status_code, 200)
        duplicate.refresh_from_db()
        self.assertFalse(duplicate.is_open)

    def test_no_merge_for_customers_nor_for_a_malformed_key(self):
        desk.open_ticket(self.carol, title=TITLE)
        for user, merge in ((self.carol, "INC-1"), (self.alice, "../x"), (self.alice, "INC-1/2")):
            client = Client()
            client.force_login(user)
            html = client.get("/similar/", {"title": TITLE, "merge": merge}).content.decode()
            self.assertNotIn("hx-post", html, (user, merge))
