"""The event log: who changed what, from what, to what, and in which request."""

import re

from sustain.core import context, events
from sustain.core.models import Event
from sustain.desk import actions as desk
from tests.base import SustainTestCase


class ChangesTests(SustainTestCase):
    def test_only_the_fields_that_differ_are_kept(self):
        before = {"title": "A", "status": "new", "team": None, "priority": 3}
        after = {"title": "A", "status": "open", "team": "Service Desk", "priority": 3}
        self.assertEqual(
            events.changes(before, after),
            ({"status": "new", "team": None}, {"status": "open", "team": "Service Desk"}),
        )

    def test_no_difference_means_no_change(self):
        self.assertEqual(events.changes({"a": 1}, {"a": 1}), ({}, {}))

    def test_a_field_new_in_after_counts_as_changed_from_nothing(self):
        self.assertEqual(events.changes({}, {"a": 1}), ({"a": None}, {"a": 1}))


class EventLogTests(SustainTestCase):
    def setUp(self):
        self.ticket = self.open_ticket(self.carol, title="Old title", impact=2, urgency=2)

    def last(self, verb):
        return Event.objects.filter(
            target_type="desk.ticket", target_id=self.ticket.pk, verb=verb
        ).last()

    def test_an_edit_records_before_and_after_of_the_changed_fields_only(self):
        desk.update_ticket(self.alice, self.ticket, title="New title", description="x", impact=2)
        event = self.last("updated")
        # impact was 2 already: only the title and the description changed.
        self.assertEqual(event.before, {"title": "Old title", "description": ""})
        self.assertEqual(event.after, {"title": "New title", "description": "x"})
        self.assertEqual(event.actor, self.alice)
        self.assertEqual(event.organization, self.acme)

    def test_a_change_that_changes_nothing_records_nothing(self):
        count = Event.objects.count()
        desk.update_ticket(self.alice, self.ticket, title="Old title")
        self.assertEqual(Event.objects.count(), count)

    def test_the_priority_follows_impact_in_the_same_event(self):
        desk.update_ticket(self.alice, self.ticket, impact=1)
        event = self.last("updated")
        self.assertEqual(event.before, {"impact": 2, "priority": 3})
        self.assertEqual(event.after, {"impact": 1, "priority": 2})

    def test_outside_a_request_there_is_no_request_id(self):
        self.assertEqual(self.last("created").request_id, "")

    def test_the_request_id_of_the_context_is_recorded(self):
        token = context.request_id.set("job-42")
        try:
            desk.update_ticket(self.alice, self.ticket, title="From a job")
        finally:
            context.request_id.reset(token)
        self.assertEqual(self.last("updated").request_id, "job-42")


class RequestIdTests(SustainTestCase):
    def setUp(self):
        self.ticket = self.open_ticket(self.carol, title="Old title")

    def test_an_api_call_records_the_callers_request_id_on_its_events(self):
        response = self.api(self.alice).patch(
            f"/api/v1/tickets/{self.ticket.key}",
            {"title": "Renamed", "team": "service-desk", "assignee": "bob@northwind.test"},
            headers={"X-Request-ID": "deploy-7f3a.1"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["X-Request-ID"], "deploy-7f3a.1")
        recorded = Event.objects.filter(target_id=self.ticket.pk, verb__in=["updated", "assigned"])
        self.assertEqual(
            sorted(recorded.values_list("verb", "request_id")),
            [("assigned", "deploy-7f3a.1"), ("updated", "deploy-7f3a.1")],
        )

    def test_the_api_lists_events_with_their_request_id(self):
        self.api(self.alice).post(
            f"/api/v1/tickets/{self.ticket.key}/transitions",
            {"status": "open"},
            headers={"X-Request-ID": "abc-123"},
        )
        body = self.api(self.alice).get(f"/api/v1/tickets/{self.ticket.key}/events").json()
        last = body["results"][-1]
        self.assertEqual((last["verb"], last["request_id"]), ("status_changed", "abc-123"))
        self.assertEqual((last["before"], last["after"]), ({"status": "new"}, {"status": "open"}))
        self.assertEqual(last["actor"], "alice@northwind.test")

    def test_without_a_usable_header_a_request_id_is_made_and_returned(self):
        for header in ({}, {"X-Request-ID": "bad id; DROP TABLE"}, {"X-Request-ID": "x" * 65}):
            with self.subTest(header=header):
                response = self.api(self.alice).post(
                    f"/api/v1/tickets/{self.ticket.key}/comments", {"body": "hi"}, headers=header
                )
                made = response["X-Request-ID"]
                self.assertRegex(made, r"^[0-9a-f]{32}$")
                event = Event.objects.filter(target_id=self.ticket.pk, verb="commented").last()
                self.assertEqual(event.request_id, made)

    def test_each_request_gets_its_own_id(self):
        api = self.api(self.alice)
        ids = {api.get("/api/v1/me")["X-Request-ID"] for _ in range(3)}
        self.assertEqual(len(ids), 3)
        self.assertTrue(all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids))
