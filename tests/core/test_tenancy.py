"""core.tenancy: one rule for what customers see (public rows; their own tickets when their
organization does not share them), in SQL (`customer_scope`) and for one row (`customer_sees`)."""

from __future__ import annotations

from sustain.accounts import actions as accounts
from sustain.accounts.models import User
from sustain.core import events
from sustain.core.events import for_target
from sustain.core.tenancy import customer_scope, customer_sees, visible
from sustain.desk.models import Comment, Ticket
from tests.base import SustainTestCase


class CustomerScopeTests(SustainTestCase):
    def setUp(self) -> None:
        self.carols = self.open_ticket(self.carol, title="Carol's")
        self.cathys = self.open_ticket(self.cathy, title="Cathy's")
        self.daves = self.open_ticket(self.dave, title="Dave's")

    def share_tickets(self, shared: bool) -> None:
        accounts.update_organization(self.root, self.acme, customers_see_all_tickets=shared)
        for name in ("carol", "cathy"):  # fresh copies: the organization is cached on the user
            setattr(self, name, User.objects.get(pk=getattr(self, name).pk))
        for name in ("carols", "cathys", "daves"):
            setattr(self, name, Ticket.objects.get(pk=getattr(self, name).pk))

    def test_customers_see_public_events_only_and_staff_all(self) -> None:
        events.record(self.carols, "noted", actor=self.alice, is_public=False)
        events.record(self.carols, "replied", actor=self.alice, is_public=True)
        every = set(for_target(self.carols).values_list("verb", flat=True))
        self.assertIn("noted", every)
        seen = set(
            customer_scope(for_target(self.carols), self.carol).values_list("verb", flat=True)
        )
        self.assertNotIn("noted", seen)
        self.assertIn("replied", seen)
        staff = set(
            customer_scope(for_target(self.carols), self.alice).values_list("verb", flat=True)
        )
        self.assertEqual(staff, every)

    def test_own_limits_customers_to_their_tickets_when_not_shared(self) -> None:
        scope = customer_scope(Ticket.objects.all(), self.cathy, public=None, own="requester")
        self.assertIn(self.carols, scope)
        self.share_tickets(False)
        scope = customer_scope(Ticket.objects.all(), self.cathy, public=None, own="requester")
        self.assertNotIn(self.carols, scope)
        self.assertIn(self.cathys, scope)
        # Staff are never narrowed by it.
        staff = customer_scope(Ticket.objects.all(), self.alice, public=None, own="requester")
        self.assertIn(self.carols, staff)

    def test_comment_scope_is_the_same_rule(self) -> None:
        public = Comment.objects.create(ticket=self.carols, author=self.alice, body="Hi")
        internal = Comment.objects.create(
            ticket=self.carols, author=self.alice, body="Note", is_public=False
        )
        self.assertEqual(
            list(visible(Comment.objects.filter(ticket=self.carols), self.carol)), [public]
        )
        self.assertEqual(
            list(visible(Comment.objects.filter(ticket=self.carols), self.cathy)), [public]
        )
        self.share_tickets(False)
        self.assertEqual(list(visible(Comment.objects.filter(ticket=self.carols), self.cathy)), [])
        staff = set(visible(Comment.objects.filter(ticket=self.carols), self.alice))
        self.assertEqual(staff, {public, internal})

    def test_customer_sees_agrees_with_visible_for_every_person_and_ticket(self) -> None:
        bob = User.objects.get(pk=self.bob.pk)
        bob.serves_all_organizations = False
        bob.save(update_fields=["serves_all_organizations"])
        bob.served_organizations.set([self.acme])
        gone = User.objects.get(pk=self.cathy.pk)
        for shared in (True, False):
            self.share_tickets(shared)
            people = [self.alice, User.objects.get(pk=bob.pk), self.mia, self.carol, self.cathy]
            people += [self.dave, gone]
            for person in people:
                for ticket in (self.carols, self.cathys, self.daves):
                    in_sql = visible(Ticket.objects.filter(pk=ticket.pk), person).exists()
                    self.assertEqual(
                        customer_sees(person, ticket), in_sql, (shared, person.email, ticket.title)
                    )
            gone.is_active = False  # the second round with a deactivated customer too
        self.assertFalse(customer_sees(gone, self.cathys))
