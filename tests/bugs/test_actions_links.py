"""Incidents linked to bugs: impact counts, unlinking, and duplicates merging their links."""

from sustain.bugs import actions as bugs
from sustain.bugs.models import Bug, BugTicket, Status
from sustain.cmdb import actions as cmdb
from sustain.cmdb.models import ConfigItem
from sustain.core.errors import Conflict, Invalid, NotFound
from sustain.core.events import for_target
from tests.bugs.base import BugTestCase


class ImpactTests(BugTestCase):
    def setUp(self):
        self.acme_test = cmdb.create_config_item(
            self.root, organization=self.acme, name="acme-test", kind=ConfigItem.Kind.ENVIRONMENT
        )

    def counts(self, bug):
        bug.refresh_from_db()
        return bug.incident_count, bug.organization_count, bug.environment_count

    def test_counts_follow_links_and_unlinks(self):
        bug = self.bug()
        t1 = self.open_ticket(self.carol, affected_ci=self.acme_prod)
        t2 = self.open_ticket(self.cathy, affected_ci=self.acme_test)
        t3 = self.open_ticket(self.cathy, affected_ci=self.acme_prod)
        t4 = self.open_ticket(self.dave)
        for ticket in (t1, t2, t3, t4):
            bugs.link_ticket(self.alice, bug, ticket)
        self.assertEqual(self.counts(bug), (4, 2, 2))
        bugs.unlink_ticket(self.alice, bug, t4)
        self.assertEqual(self.counts(bug), (3, 1, 2))
        self.assertEqual(self.verbs(bug).count("ticket_linked"), 4)
        self.assertIn("ticket_unlinked", self.verbs(bug))
        self.assertEqual(for_target(t1).get(verb="ticket_linked").after["bug"], bug.key)

    def test_link_events_belong_to_the_tickets_customer(self):
        bug = self.bug()
        ticket = self.open_ticket(self.dave)
        bugs.link_ticket(self.alice, bug, ticket)
        event = for_target(bug).get(verb="ticket_linked")
        self.assertEqual(event.organization_id, self.globex.pk)

    def test_twice_is_a_conflict_and_unlinking_nothing_is_not_found(self):
        bug, ticket = self.bug(), self.open_ticket()
        bugs.link_ticket(self.alice, bug, ticket)
        with self.assertRaises(Conflict):
            bugs.link_ticket(self.alice, bug, ticket)
        bugs.unlink_ticket(self.alice, bug, ticket)
        with self.assertRaises(NotFound):
            bugs.unlink_ticket(self.alice, bug, ticket)

    def test_an_agent_links_only_tickets_they_serve(self):
        from sustain.accounts import actions as accounts

        sam = accounts.create_user(
            self.root,
            email="sam@northwind.test",
            name="Sam",
            organization=self.provider,
            role="agent",
            serves_all_organizations=False,
            served_organizations=[self.acme],
        )
        with self.assertRaises(Invalid) as caught:
            bugs.link_ticket(sam, self.bug(), self.open_ticket(self.dave))
        self.assertEqual(caught.exception.errors[0]["field"], "ticket")

    def test_impact_order_sorts_by_customers_then_incidents_then_age(self):
        from sustain.bugs import queries

        old, busy, wide = self.bug(title="old"), self.bug(title="busy"), self.bug(title="wide")
        for ticket in (self.open_ticket(self.carol), self.open_ticket(self.cathy)):
            bugs.link_ticket(self.alice, busy, ticket)
        for ticket in (self.open_ticket(self.carol), self.open_ticket(self.dave)):
            bugs.link_ticket(self.alice, wide, ticket)
        quiet = self.bug(title="quiet")
        order = queries.ORDERS["impact"]
        titles = list(Bug.objects.order_by(*order).values_list("title", flat=True))
        self.assertEqual(titles, ["wide", "busy", "old", "quiet"])
        self.assertEqual(quiet.incident_count, 0)
        self.assertEqual(old.status, Status.NEW)


class DuplicateTests(BugTestCase):
    def test_the_duplicates_links_merge_into_the_original(self):
        original, duplicate = self.bug(title="original"), self.bug(title="dup")
        shared, own = self.open_ticket(self.carol), self.open_ticket(self.dave)
        bugs.link_ticket(self.alice, original, shared)
        bugs.link_ticket(self.alice, duplicate, shared)
        bugs.link_ticket(self.alice, duplicate, own)
        bugs.mark_duplicate(self.alice, duplicate, original=original)
        duplicate.refresh_from_db()
        original.refresh_from_db()
        self.assertEqual(duplicate.status, Status.DUPLICATE)
        self.assertEqual(duplicate.duplicate_of, original)
        self.assertIsNotNone(duplicate.closed_at)
        self.assertEqual(
            set(BugTicket.objects.filter(bug=original).values_list("ticket_id", flat=True)),
            {shared.pk, own.pk},
        )
        self.assertEqual((original.incident_count, original.organization_count), (2, 2))
        self.assertIn("marked_duplicate", self.verbs(duplicate))
        merged = for_target(original).get(verb="duplicate_merged")
        self.assertEqual(merged.after, {"duplicate": duplicate.key, "tickets": 1})

    def test_affected_versions_of_the_same_product_merge_too(self):
        original = self.bug(affected_versions=[self.v["2.4.1"]])
        duplicate = self.bug(affected_versions=[self.v["3.0.0"]])
        bugs.mark_duplicate(self.alice, duplicate, original=original)
        self.assertEqual(sorted(original.lines.values_list("major", "minor")), [(2, 4), (3, 0)])

    def test_refused_self_loops_and_duplicates_of_duplicates(self):
        a, b, c = self.bug(title="a"), self.bug(title="b"), self.bug(title="c")
        with self.assertRaises(Invalid):
            bugs.mark_duplicate(self.alice, a, original=a)
        bugs.mark_duplicate(self.alice, b, original=a)
        with self.assertRaises(Invalid) as caught:
            bugs.mark_duplicate(self.alice, c, original=b)
        self.assertIn(a.key, caught.exception.message)
        # a ← b; marking a a duplicate of c moves b over to c: no chain, no loop.
        bugs.mark_duplicate(self.alice, a, original=c)
        b.refresh_from_db()
        self.assertEqual(b.duplicate_of, c)
        with self.assertRaises(Invalid):
            bugs.mark_duplicate(self.alice, c, original=a)

    def test_across_products_is_fine_but_not_from_a_fixed_bug(self):
        other = self.bug(product=self.other_product, title="payroll")
        fixed = self.bug(title="fixed")
        bugs.transition(self.alice, fixed, Status.FIXED)
        with self.assertRaises(Conflict) as caught:
            bugs.mark_duplicate(self.alice, fixed, original=other)
        self.assertIn("from fixed to duplicate", caught.exception.message)
        bugs.mark_duplicate(self.alice, self.bug(), original=other)

    def test_undoing_a_duplicate_clears_the_pointer(self):
        original, duplicate = self.bug(), self.bug()
        bugs.mark_duplicate(self.alice, duplicate, original=original)
        bugs.transition(self.alice, duplicate, Status.TRIAGED)
        duplicate.refresh_from_db()
        self.assertIsNone(duplicate.duplicate_of)
        self.assertIsNone(duplicate.closed_at)
