"""Review finding: the customer's ticket page names the bug behind it in customer words (the
API did; the portal did not), without internal fields."""

from django.test import Client

from sustain.bugs import actions as bugs
from tests.bugs.base import BugTestCase


class PortalKnownProblemTests(BugTestCase):
    def test_the_linked_bug_is_shown_in_customer_words(self):
        ticket = self.open_ticket(self.carol, title="Totals are off")
        bug = self.bug(title="Totals are rounded twice", assignee=self.bob)
        bugs.link_ticket(self.alice, bug, ticket)
        bugs.add_comment(self.alice, bug, "internal-marker-5521", is_public=False)
        client = Client()
        client.force_login(self.carol)
        page = client.get(f"/portal/t/{ticket.key}").content.decode()
        self.assertIn(bug.key, page)
        self.assertIn("Totals are rounded twice", page)
        self.assertIn("Reported: the team will look at it.", page)
        self.assertNotIn("internal-marker-5521", page)
        self.assertNotIn(self.bob.name, page)

    def test_no_bug_no_list(self):
        ticket = self.open_ticket(self.carol)
        client = Client()
        client.force_login(self.carol)
        page = client.get(f"/portal/t/{ticket.key}").content.decode()
        self.assertNotIn("known-problems", page)
