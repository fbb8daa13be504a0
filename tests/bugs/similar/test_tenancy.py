"""A customer is never shown another organization's tickets nor bugs not linked to them."""

from sustain.bugs.similar.rank import suggest
from sustain.desk import actions as desk
from tests.bugs.similar.helpers import SimilarTestCase

TITLE = "Invoice PDF is blank for Swiss customers"


class TenancyTests(SimilarTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.acme_ticket = desk.open_ticket(cls.carol, title=TITLE)
        cls.cathy_ticket = desk.open_ticket(cls.cathy, title=f"{TITLE} (Cathy)")
        cls.globex_ticket = desk.open_ticket(cls.dave, title=TITLE)

    def test_a_customer_sees_only_their_organizations_tickets(self):
        keys = self.keys(suggest(self.carol, title=TITLE))
        self.assertIn(self.acme_ticket.key, keys)
        self.assertNotIn(self.globex_ticket.key, keys)
        dave = self.keys(suggest(self.dave, title=TITLE))
        self.assertEqual(dave, [self.globex_ticket.key])

    def test_a_customer_follows_the_organizations_ticket_scope(self):
        # Acme's customers see only their own requests unless the organization shares them.
        self.acme.customers_see_all_tickets = False
        self.acme.save()
        self.assertNotIn(self.cathy_ticket.key, self.keys(suggest(self.carol, title=TITLE)))
        self.acme.customers_see_all_tickets = True
        self.acme.save()
        self.carol.refresh_from_db()
        self.assertIn(self.cathy_ticket.key, self.keys(suggest(self.carol, title=TITLE)))

    def test_a_customer_sees_only_bugs_linked_to_them(self):
        hidden = self.bug(TITLE)
        linked = self.bug(f"{TITLE} again")
        self.link(linked, self.acme_ticket)
        on_their_environment = self.bug(f"{TITLE} in production", environment=self.acme_prod)
        carol = self.keys(suggest(self.carol, title=TITLE))
        self.assertIn(linked.key, carol)
        self.assertIn(on_their_environment.key, carol)
        self.assertNotIn(hidden.key, carol)
        dave = self.keys(suggest(self.dave, title=TITLE))
        self.assertFalse({hidden.key, linked.key, on_their_environment.key} & set(dave))

    def test_customer_links_go_to_the_portal_and_staff_see_everything(self):
        mine = suggest(self.carol, title=TITLE)
        self.assertEqual(mine[0].url, f"/portal/t/{mine[0].key}")
        staff = self.keys(suggest(self.alice, title=TITLE, limit=10))
        self.assertTrue({self.acme_ticket.key, self.globex_ticket.key} <= set(staff))

    def test_an_inactive_user_gets_nothing(self):
        self.carol.is_active = False
        self.carol.save()
        self.assertEqual(suggest(self.carol, title=TITLE), [])
