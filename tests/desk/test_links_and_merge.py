"""Linking related tickets, and merging a duplicate into the ticket it repeats."""

from sustain.accounts import actions as accounts
from sustain.accounts.models import Role
from sustain.core.errors import Conflict, Forbidden, Invalid
from sustain.core.models import Event
from sustain.desk import actions as desk
from sustain.desk.models import Attachment, Comment, Status, TicketLink
from tests.base import SustainTestCase


class LinkTests(SustainTestCase):
    def setUp(self):
        self.first = self.open_ticket(self.carol, title="Login page slow")
        self.second = self.open_ticket(self.cathy, title="Dashboard slow")

    def test_an_agent_links_two_tickets_and_both_timelines_say_so(self):
        response = self.api(self.alice).post(
            f"/api/v1/tickets/{self.first.key}/links", {"target": self.second.key.lower()}
        )
        self.assertEqual(response.status_code, 201)
        self.assertEqual(
            {k: response.json()[k] for k in ("source", "target", "kind")},
            {"source": self.first.key, "target": self.second.key, "kind": "related"},
        )
        for ticket, other in ((self.first, self.second), (self.second, self.first)):
            listed = self.api(self.carol).get(f"/api/v1/tickets/{ticket.key}/links").json()
            self.assertEqual(
                [(link["source"], link["target"]) for link in listed],
                [(self.first.key, self.second.key)],
            )
            event = Event.objects.get(target_type="desk.ticket", target_id=ticket.pk, verb="linked")
            self.assertEqual(event.after, {"kind": "related", "target": other.key})

    def test_the_same_link_twice_is_a_conflict(self):
        desk.link(self.alice, self.first, self.second)
        response = self.api(self.alice).post(
            f"/api/v1/tickets/{self.first.key}/links", {"target": self.second.key}
        )
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["errors"][0]["field"], "target")
        self.assertEqual(TicketLink.objects.count(), 1)

    def test_a_ticket_cannot_be_linked_to_itself(self):
        with self.assertRaises(Invalid) as refused:
            desk.link(self.alice, self.first, self.first)
        self.assertEqual(refused.exception.errors[0]["field"], "target")

    def test_an_unknown_or_invisible_target_names_the_field(self):
        acme_only = accounts.create_user(
            self.root,
            email="ann@northwind.test",
            name="Ann Acme-only",
            organization=self.provider,
            role=Role.AGENT,
            serves_all_organizations=False,
            served_organizations=[self.acme],
        )
        globex = self.open_ticket(self.dave, title="Globex thing")
        for target in ("INC-999999", globex.key):
            with self.subTest(target=target):
                response = self.api(acme_only).post(
                    f"/api/v1/tickets/{self.first.key}/links", {"target": target}
                )
                self.assertEqual(response.status_code, 422)
                self.assertEqual(response.json()["errors"][0]["field"], "target")
                self.assertEqual(response.json()["detail"], f"No ticket {target}.")
        self.assertFalse(TicketLink.objects.exists())

    def test_customers_cannot_link(self):
        with self.assertRaises(Forbidden):
            desk.link(self.carol, self.first, self.second)
        response = self.api(self.carol).post(
            f"/api/v1/tickets/{self.first.key}/links", {"target": self.second.key}
        )
        self.assertEqual(response.status_code, 403)
        self.assertFalse(TicketLink.objects.exists())


class MergeTests(SustainTestCase):
    def setUp(self):
        self.original = self.open_ticket(self.carol, title="Checkout returns 502")
        self.duplicate = self.open_ticket(self.cathy, title="Cannot pay")
        desk.add_comment(self.cathy, self.duplicate, "It fails at the last step.")
        desk.add_comment(self.alice, self.duplicate, "Same as the other one.", is_public=False)
        desk.add_attachment(self.cathy, self.duplicate, "error.txt", b"HTTP 502")

    def merge(self):
        return self.api(self.alice).post(
            f"/api/v1/tickets/{self.duplicate.key}/links",
            {"target": self.original.key, "kind": "duplicate"},
        )

    def test_merging_moves_the_comments_and_closes_the_duplicate(self):
        response = self.merge()
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json()["kind"], "duplicate")
        self.duplicate.refresh_from_db()
        self.assertEqual(self.duplicate.status, Status.CLOSED)
        self.assertIsNotNone(self.duplicate.closed_at)
        moved = Comment.objects.filter(ticket=self.original).order_by("id")
        self.assertEqual(
            [(c.body, c.is_public) for c in moved],
            [("It fails at the last step.", True), ("Same as the other one.", False)],
        )
        self.assertFalse(Comment.objects.filter(ticket=self.duplicate).exists())
        self.assertEqual(Attachment.objects.get().ticket, self.original)

    def test_the_duplicates_requester_follows_the_original(self):
        self.merge()
        self.assertIn(self.cathy, self.original.watchers.all())

    def test_both_timelines_record_the_merge(self):
        self.merge()
        into = Event.objects.get(
            target_type="desk.ticket", target_id=self.duplicate.pk, verb="merged_into"
        )
        self.assertEqual(into.after, {"target": self.original.key, "comments": 2})
        source = Event.objects.get(
            target_type="desk.ticket", target_id=self.original.pk, verb="merged_from"
        )
        self.assertEqual(source.after, {"source": self.duplicate.key, "comments": 2})

    def test_tickets_of_different_organizations_are_not_merged(self):
        foreign = self.open_ticket(self.dave, title="Cannot pay either")
        with self.assertRaises(Invalid) as refused:
            desk.merge(self.alice, foreign, into=self.original)
        self.assertEqual(refused.exception.errors[0]["field"], "target")
        response = self.api(self.alice).post(
            f"/api/v1/tickets/{foreign.key}/links",
            {"target": self.original.key, "kind": "duplicate"},
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("same organization", response.json()["detail"])
        foreign.refresh_from_db()
        self.assertEqual(foreign.status, Status.NEW)
        self.assertFalse(TicketLink.objects.exists())

    def test_merging_into_a_closed_ticket_is_a_conflict(self):
        desk.transition(self.alice, self.original, Status.CANCELLED)
        response = self.merge()
        self.assertEqual(response.status_code, 409)
        self.duplicate.refresh_from_db()
        self.assertEqual(self.duplicate.status, Status.NEW)
        self.assertEqual(Comment.objects.filter(ticket=self.duplicate).count(), 2)

    def test_a_closed_ticket_cannot_be_merged_again(self):
        self.merge()
        self.assertEqual(self.merge().status_code, 409)
        self.duplicate.refresh_from_db()
        with self.assertRaises(Conflict):
            desk.merge(self.alice, self.duplicate, into=self.original)
        self.assertEqual(TicketLink.objects.count(), 1)

    def test_the_second_of_two_simultaneous_merges_is_a_conflict_not_an_error(self):
        # Both agents loaded the duplicate while it was still open.
        seen_by_bob = type(self.duplicate).objects.get(pk=self.duplicate.pk)
        desk.merge(self.alice, self.duplicate, into=self.original)
        with self.assertRaises(Conflict):
            desk.merge(self.bob, seen_by_bob, into=self.original)
        self.assertEqual(TicketLink.objects.count(), 1)
        self.assertEqual(
            Event.objects.filter(target_id=self.original.pk, verb="merged_from").count(), 1
        )

    def test_a_ticket_is_not_a_duplicate_of_itself(self):
        with self.assertRaises(Invalid):
            desk.merge(self.alice, self.original, into=self.original)
        self.original.refresh_from_db()
        self.assertEqual(self.original.status, Status.NEW)
