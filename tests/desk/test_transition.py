"""Moving a ticket along its workflow: agents drive it, customers reopen, close or withdraw."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.test import Client

from sustain.core.errors import Conflict, Forbidden, Invalid, NotFound
from sustain.core.models import Event
from sustain.desk import actions as desk
from sustain.desk.models import Comment, Status
from tests.base import SustainTestCase

MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class TransitionTests(SustainTestCase):
    def setUp(self):
        self.ticket = self.open_ticket(self.carol, title="Invoices are not sent")

    def move(self, actor, *statuses):
        for status in statuses:
            desk.transition(actor, self.ticket, status)
        self.ticket.refresh_from_db()
        return self.ticket

    def events(self, verb):
        return Event.objects.filter(target_type="desk.ticket", target_id=self.ticket.pk, verb=verb)

    def test_an_agent_works_a_ticket_from_new_to_closed(self):
        with time_machine.travel(MORNING, tick=False):
            self.move(self.alice, Status.OPEN, Status.PENDING, Status.OPEN)
        with time_machine.travel(MORNING + timedelta(hours=2), tick=False):
            self.move(self.alice, Status.RESOLVED)
        self.assertEqual(self.ticket.resolved_at, MORNING + timedelta(hours=2))
        self.assertIsNone(self.ticket.closed_at)
        with time_machine.travel(MORNING + timedelta(days=1), tick=False):
            self.move(self.alice, Status.CLOSED)
        self.assertEqual(self.ticket.status, Status.CLOSED)
        self.assertEqual(self.ticket.closed_at, MORNING + timedelta(days=1))
        self.assertEqual(self.ticket.resolved_at, MORNING + timedelta(hours=2))

    def test_each_move_is_on_the_timeline_with_before_and_after(self):
        self.move(self.alice, Status.OPEN, Status.RESOLVED)
        moves = [(e.before, e.after, e.actor) for e in self.events("status_changed").order_by("id")]
        self.assertEqual(
            moves,
            [
                ({"status": "new"}, {"status": "open"}, self.alice),
                ({"status": "open"}, {"status": "resolved"}, self.alice),
            ],
        )

    def test_an_illegal_move_is_refused_and_names_the_legal_ones(self):
        self.move(self.alice, Status.OPEN, Status.RESOLVED, Status.CLOSED)
        with self.assertRaises(Conflict) as refused:
            desk.transition(self.alice, self.ticket, Status.RESOLVED)
        self.assertIn("cannot go from closed to resolved", refused.exception.message)
        self.assertIn("(allowed: open)", refused.exception.message)
        self.assertEqual(refused.exception.errors[0]["field"], "status")
        self.ticket.refresh_from_db()
        self.assertEqual(self.ticket.status, Status.CLOSED)

    def test_the_api_answers_an_illegal_move_with_409_naming_the_allowed_moves(self):
        response = self.api(self.alice).post(
            f"/api/v1/tickets/{self.ticket.key}/transitions", {"status": "closed"}
        )
        self.assertEqual(response.status_code, 409)
        body = response.json()
        self.assertEqual(
            body["detail"],
            f"{self.ticket.key} cannot go from new to closed "
            "(allowed: cancelled, open, pending, resolved).",
        )
        self.assertEqual(body["errors"][0]["field"], "status")
        self.assertEqual(self.move(self.alice).status, Status.NEW)

    def test_the_api_refuses_an_unknown_status_naming_the_field(self):
        response = self.api(self.alice).post(
            f"/api/v1/tickets/{self.ticket.key}/transitions", {"status": "done"}
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "status")
        with self.assertRaises(Invalid):
            desk.transition(self.alice, self.ticket, "done")

    def test_the_api_moves_a_ticket_and_returns_it(self):
        response = self.api(self.alice).post(
            f"/api/v1/tickets/{self.ticket.key}/transitions", {"status": "pending"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["status"], "pending")
        self.assertEqual(self.move(self.alice).status, Status.PENDING)

    def test_a_reason_is_posted_as_a_public_reply(self):
        desk.transition(self.alice, self.ticket, Status.RESOLVED, reason="Restarted the mailer.")
        reply = Comment.objects.get(ticket=self.ticket)
        self.assertEqual(
            (reply.body, reply.is_public, reply.author), ("Restarted the mailer.", True, self.alice)
        )

    def test_reopening_clears_the_resolution_and_closure_times(self):
        self.move(self.alice, Status.OPEN, Status.RESOLVED)
        self.assertIsNotNone(self.ticket.resolved_at)
        self.move(self.carol, Status.OPEN)
        self.assertEqual(self.ticket.status, Status.OPEN)
        self.assertIsNone(self.ticket.resolved_at)
        self.assertEqual(self.events("reopened").get().actor, self.carol)

        self.move(self.alice, Status.RESOLVED, Status.CLOSED)
        self.assertIsNotNone(self.ticket.closed_at)
        self.move(self.alice, Status.OPEN)
        self.assertIsNone(self.ticket.resolved_at)
        self.assertIsNone(self.ticket.closed_at)
        self.assertEqual(self.events("reopened").count(), 2)

    def test_a_cancelled_ticket_can_only_be_reopened_by_an_agent(self):
        self.move(self.alice, Status.CANCELLED)
        with self.assertRaises(Conflict) as refused:
            desk.transition(self.alice, self.ticket, Status.RESOLVED)
        self.assertIn("(allowed: open)", refused.exception.message)
        with self.assertRaises(Conflict) as refused:
            desk.transition(self.carol, self.ticket, Status.OPEN)
        self.assertIn("(allowed: none)", refused.exception.message)
        self.assertEqual(self.move(self.alice, Status.OPEN).status, Status.OPEN)


class CustomerTransitionTests(SustainTestCase):
    def setUp(self):
        self.ticket = self.open_ticket(self.carol, title="Exports time out")

    def resolve(self):
        desk.transition(self.alice, self.ticket, Status.RESOLVED)

    def test_the_requester_closes_a_resolved_ticket(self):
        self.resolve()
        desk.transition(self.carol, self.ticket, Status.CLOSED)
        self.ticket.refresh_from_db()
        self.assertEqual(self.ticket.status, Status.CLOSED)
        self.assertIsNotNone(self.ticket.closed_at)

    def test_the_requester_reopens_a_resolved_ticket(self):
        self.resolve()
        desk.transition(self.carol, self.ticket, Status.OPEN)
        self.ticket.refresh_from_db()
        self.assertEqual(self.ticket.status, Status.OPEN)
        self.assertIsNone(self.ticket.resolved_at)

    def test_the_requester_withdraws_an_open_ticket(self):
        desk.transition(self.carol, self.ticket, Status.CANCELLED)
        self.ticket.refresh_from_db()
        self.assertEqual(self.ticket.status, Status.CANCELLED)

    def test_a_customer_cannot_do_an_agents_moves(self):
        for status in (Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED):
            with self.subTest(status=status), self.assertRaises(Conflict) as refused:
                desk.transition(self.carol, self.ticket, status)
            self.assertIn("(allowed: cancelled)", refused.exception.message)
        self.resolve()
        with self.assertRaises(Conflict) as refused:
            desk.transition(self.carol, self.ticket, Status.CANCELLED)
        self.assertIn("(allowed: closed, open)", refused.exception.message)

    def test_a_colleague_may_reopen_but_not_close_or_withdraw(self):
        with self.assertRaises(Forbidden):
            desk.transition(self.cathy, self.ticket, Status.CANCELLED)
        self.resolve()
        with self.assertRaises(Forbidden):
            desk.transition(self.cathy, self.ticket, Status.CLOSED)
        desk.transition(self.cathy, self.ticket, Status.OPEN)
        self.ticket.refresh_from_db()
        self.assertEqual(self.ticket.status, Status.OPEN)

    def test_a_customer_of_another_organization_cannot_find_the_ticket(self):
        with self.assertRaises(NotFound):
            desk.transition(self.dave, self.ticket, Status.CANCELLED)
        response = self.api(self.dave).post(
            f"/api/v1/tickets/{self.ticket.key}/transitions", {"status": "cancelled"}
        )
        self.assertEqual(response.status_code, 404)
        self.ticket.refresh_from_db()
        self.assertEqual(self.ticket.status, Status.NEW)

    def test_the_customer_gets_409_from_the_api_for_a_move_they_may_not_make(self):
        response = self.api(self.carol).post(
            f"/api/v1/tickets/{self.ticket.key}/transitions", {"status": "resolved"}
        )
        self.assertEqual(response.status_code, 409)
        self.assertIn("allowed: cancelled", response.json()["detail"])

    def test_the_portal_offers_and_performs_closing_a_resolved_ticket(self):
        self.resolve()
        client = Client()
        client.force_login(self.carol)
        page = client.get(f"/portal/t/{self.ticket.key}")
        self.assertContains(page, 'value="closed"')
        self.assertContains(page, 'value="open"')
        self.assertNotContains(page, 'value="cancelled"')
        response = client.post(f"/portal/t/{self.ticket.key}/status", {"status": "closed"})
        self.assertRedirects(response, f"/portal/t/{self.ticket.key}")
        self.ticket.refresh_from_db()
        self.assertEqual(self.ticket.status, Status.CLOSED)

    def test_the_portal_shows_a_refused_move_as_a_message(self):
        client = Client()
        client.force_login(self.carol)
        response = client.post(
            f"/portal/t/{self.ticket.key}/status", {"status": "closed"}, follow=True
        )
        self.assertContains(response, "cannot go from new to closed")
        self.ticket.refresh_from_db()
        self.assertEqual(self.ticket.status, Status.NEW)
