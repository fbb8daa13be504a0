"""Configuration cannot break intake: bad SLA rows are refused, and rows bad anyway are skipped."""

from __future__ import annotations

import logging

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sustain.core.models import Event
from sustain.desk.models import Ticket
from sustain.sla import config
from sustain.sla.models import Calendar, Clock, Holiday, Policy
from tests.base import SustainTestCase

WEEKDAYS = {"mon": [["09:00", "17:00"]]}


def calendar_form(**overrides):
    """The admin's add/change form for a calendar, with an empty holiday inline."""
    data = {
        "name": "Office",
        "timezone": "Europe/Berlin",
        "hours": '{"mon": [["09:00", "17:00"]]}',
        "organization": "",
        "updated_at_0": "2026-01-01",  # the field the old admin showed; ignored now
        "updated_at_1": "00:00:00",
        "holidays-TOTAL_FORMS": "0",
        "holidays-INITIAL_FORMS": "0",
        "holidays-MIN_NUM_FORMS": "0",
        "holidays-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


class AdminRefusesBadCalendars(SustainTestCase):
    def setUp(self):
        self.client.force_login(self.root)

    def test_an_hour_25_is_refused_naming_hours(self):
        response = self.client.post(
            "/admin/sla/calendar/add/", calendar_form(hours='{"mon": [["09:00", "25:00"]]}')
        )
        self.assertEqual(response.status_code, 200)  # the form again, not "added successfully"
        self.assertIn("hours", response.context["adminform"].form.errors)
        self.assertFalse(Calendar.objects.exists())

    def test_an_unknown_time_zone_is_refused_naming_timezone(self):
        response = self.client.post(
            "/admin/sla/calendar/add/", calendar_form(timezone="Mars/Olympus")
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("timezone", response.context["adminform"].form.errors)
        self.assertFalse(Calendar.objects.exists())

    def test_hours_of_the_wrong_shape_are_refused(self):
        for hours in ('["09:00"]', '{"mon": "09:00-17:00"}', '{"mon": [["9am", "5pm"]]}', "{}"):
            response = self.client.post("/admin/sla/calendar/add/", calendar_form(hours=hours))
            self.assertIn("hours", response.context["adminform"].form.errors, hours)
        self.assertFalse(Calendar.objects.exists())

    def test_a_good_calendar_is_saved_through_the_action_with_its_event(self):
        response = self.client.post(
            "/admin/sla/calendar/add/",
            calendar_form(
                **{
                    "holidays-TOTAL_FORMS": "1",
                    "holidays-0-date": "2026-12-25",
                    "holidays-0-name": "Christmas",
                }
            ),
        )
        self.assertEqual(response.status_code, 302, response.content[:2000])
        calendar = Calendar.objects.get(name="Office")
        self.assertEqual(list(calendar.holidays.values_list("name", flat=True)), ["Christmas"])
        self.assertTrue(Event.objects.filter(target_type="sla.calendar", verb="created").exists())
        response = self.client.post(
            f"/admin/sla/calendar/{calendar.pk}/change/",
            calendar_form(
                timezone="UTC",
                **{
                    "holidays-TOTAL_FORMS": "1",
                    "holidays-INITIAL_FORMS": "1",
                    "holidays-0-id": str(calendar.holidays.get().pk),
                    "holidays-0-calendar": str(calendar.pk),
                    "holidays-0-date": "2026-12-25",
                    "holidays-0-name": "Christmas",
                    "holidays-0-DELETE": "on",
                },
            ),
        )
        self.assertEqual(response.status_code, 302, response.content[:2000])
        calendar.refresh_from_db()
        self.assertEqual((calendar.timezone, calendar.holidays.count()), ("UTC", 0))
        self.assertTrue(Event.objects.filter(target_type="sla.calendar", verb="updated").exists())

    def test_a_shared_calendar_in_use_cannot_become_one_customers(self):
        calendar = Calendar.objects.create(name="Office", hours=WEEKDAYS)
        Policy.objects.create(name="Everyone", calendar=calendar)
        response = self.client.post(
            f"/admin/sla/calendar/{calendar.pk}/change/",
            calendar_form(timezone="UTC", organization=str(self.acme.pk)),
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("organization", response.context["adminform"].form.errors)
        calendar.refresh_from_db()
        self.assertIsNone(calendar.organization)

    def test_a_policy_with_a_warning_at_150_percent_is_refused_in_the_admin(self):
        calendar = Calendar.objects.create(name="24x7", always=True)
        response = self.client.post(
            "/admin/sla/policy/add/",
            {
                "name": "Gold",
                "order": "10",
                "active": "on",
                "calendar": str(calendar.pk),
                "kind": "",
                "warn_percent": "150",
                "pause_statuses": '["pending"]',
                "updated_at_0": "2026-01-01",
                "updated_at_1": "00:00:00",
                "targets-TOTAL_FORMS": "1",
                "targets-INITIAL_FORMS": "0",
                "targets-MIN_NUM_FORMS": "0",
                "targets-MAX_NUM_FORMS": "1000",
                "targets-0-priority": "3",
                "targets-0-metric": "resolution",
                "targets-0-minutes": "0",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("warn_percent", response.context["adminform"].form.errors)
        self.assertFalse(Policy.objects.exists())


class ApiRefusesBadConfiguration(SustainTestCase):
    def setUp(self):
        self.root_api = self.api(self.root)

    def assertRefused(self, response, field):
        self.assertEqual(response.status_code, 422, response.content)
        self.assertIn(field, [e["field"] for e in response.json()["errors"]], response.json())

    def test_calendars(self):
        url = "/api/v1/sla/calendars"
        self.assertRefused(
            self.root_api.post(url, {"name": "A", "timezone": "Mars/Olympus", "hours": WEEKDAYS}),
            "timezone",
        )
        self.assertRefused(
            self.root_api.post(url, {"name": "A", "hours": {"mon": [["09:00", "25:00"]]}}),
            "hours",
        )
        self.assertRefused(
            self.root_api.post(url, {"name": "A", "hours": {"mon": [["09:00+05:00", "17:00"]]}}),
            "hours",
        )
        good = self.root_api.post(url, {"name": "A", "hours": WEEKDAYS}).json()
        self.assertRefused(
            self.root_api.patch(f"{url}/{good['id']}", {"timezone": "../../etc/passwd"}),
            "timezone",
        )
        self.assertEqual(Calendar.objects.get().timezone, "UTC")

    def test_escalation_levels_with_malformed_actions(self):
        for actions, field in (
            ([{"do": "add_watchers", "users": "alice@northwind.test"}], "users"),
            ([{"do": "page", "schedule": 5}], "schedule"),
        ):
            response = self.root_api.post(
                "/api/v1/sla/escalation-rules",
                {"name": "R", "condition": "sla_breach", "levels": [{"actions": actions}]},
            )
            self.assertRefused(response, f"levels.0.actions.0.{field}")

    def test_a_rotation_with_an_unknown_zone(self):
        response = self.root_api.post(
            "/api/v1/oncall",
            {
                "team": "service-desk",
                "name": "Nights",
                "slug": "nights",
                "participants": [self.alice.email],
                "rotation_start": "2026-10-19",
                "timezone": "Mars/Olympus",
            },
        )
        self.assertRefused(response, "timezone")


class CompileSkipsBadRows(SustainTestCase):
    """Rows written behind validation's back (an old row, a hand edit) do not stop intake."""

    def setUp(self):
        self.root_api = self.api(self.root)
        broken = self.root_api.post(
            "/api/v1/sla/calendars", {"name": "Mars office", "hours": WEEKDAYS}
        ).json()
        good = self.root_api.post("/api/v1/sla/calendars", {"name": "24x7", "always": True}).json()
        self.broken_policy = self.root_api.post(
            "/api/v1/sla/policies",
            {
                "name": "Acme gold",
                "order": 1,
                "calendar": broken["id"],
                "organization": "acme",
                "targets": [{"priority": 3, "metric": "resolution", "minutes": 60}],
            },
        ).json()
        self.root_api.post(
            "/api/v1/sla/policies",
            {
                "name": "Everyone",
                "order": 2,
                "calendar": good["id"],
                "targets": [{"priority": 3, "metric": "resolution", "minutes": 240}],
            },
        )
        # The hand edit: straight into the table, no clean(), no action.
        Calendar.objects.filter(pk=broken["id"]).update(
            timezone="Mars/Olympus", hours={"mon": [["09:00", "25:00"]]}
        )

    def test_tickets_still_open_from_the_api_under_the_other_policy(self):
        with self.assertLogs("sustain.sla.config", logging.ERROR) as logs:
            response = self.api(self.carol).post(
                "/api/v1/tickets", {"title": "Checkout returns 502", "description": "x"}
            )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertIn("Mars office", "\n".join(logs.output))
        ticket = Ticket.objects.get(key=response.json()["key"])
        clock = Clock.objects.get(ticket=ticket)
        self.assertEqual((clock.policy.name, clock.target_seconds), ("Everyone", 240 * 60))

    def test_tickets_open_from_the_portal_and_by_mail(self):
        from sustain.mail.actions import ingest

        self.client.force_login(self.carol)
        response = self.client.post(
            "/portal/new",
            {"kind": "incident", "title": "Portal ticket", "impact": 2, "urgency": 2},
        )
        self.assertEqual(response.status_code, 302, response.content[:500])
        self.assertTrue(Ticket.objects.filter(title="Portal ticket").exists())
        raw = (
            b"From: Carol Customer <carol@acme.test>\r\nTo: support@northwind.test\r\n"
            b"Subject: Mail ticket\r\nMessage-ID: <m1@acme.test>\r\n\r\nIt broke again.\r\n"
        )
        ingest(raw)
        self.assertTrue(Ticket.objects.filter(title="Mail ticket").exists())

    def test_the_compiled_configuration_is_kept_although_rows_were_skipped(self):
        self.open_ticket(self.carol)
        with CaptureQueriesContext(connection) as queries:
            self.open_ticket(self.carol, title="Second")
            self.open_ticket(self.carol, title="Third")
        compiled = [q["sql"] for q in queries if 'FROM "sla_calendar"' in q["sql"]]
        self.assertEqual(compiled, [])

    def test_the_sla_page_lists_what_was_skipped(self):
        self.client.force_login(self.alice)
        response = self.client.get("/sla/calendars")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "skipped: calendar Mars office")
        self.assertContains(response, "skipped: policy Acme gold")
        self.assertContains(response, "Mars/Olympus")

    def test_other_bad_policy_rows_are_skipped_one_by_one(self):
        Policy.objects.filter(name="Everyone").update(pause_statuses="pending", warn_percent=500)
        current = config.current()
        self.assertEqual(current.policies, [])
        self.assertEqual(len(current.skipped), 3)  # the calendar, its policy, this one
        ticket = self.open_ticket(self.carol)
        self.assertFalse(ticket.clocks.exists())

    def test_existing_clocks_under_a_skipped_calendar_still_follow_status_changes(self):
        from sustain.desk import actions as desk

        Calendar.objects.filter(name="Mars office").update(timezone="UTC", hours=WEEKDAYS)
        ticket = self.open_ticket(self.carol)
        self.assertEqual(ticket.clocks.get().policy.name, "Acme gold")
        Calendar.objects.filter(name="Mars office").update(timezone="Mars/Olympus")
        Holiday.objects.create(calendar=Calendar.objects.get(name="24x7"), date="2026-12-25")
        desk.transition(self.alice, ticket, "pending")
        self.assertEqual(ticket.clocks.get().state, Clock.State.PAUSED)


class ReadOnlyRecordsInTheAdmin(SustainTestCase):
    def setUp(self):
        self.client.force_login(self.root)
        self.ticket = self.open_ticket(self.carol)

    def test_events_clocks_and_outbox_messages_cannot_be_added_changed_or_deleted(self):
        from sustain.core.models import OutboxMessage

        Calendar.objects.create(name="24x7", always=True)
        event = Event.objects.first()
        self.assertIsNotNone(event)
        rows = [("core", "event", event.pk)]
        message = OutboxMessage.objects.first()
        if message is not None:
            rows.append(("core", "outboxmessage", message.pk))
        for app, model, pk in rows:
            base = f"/admin/{app}/{model}/"
            self.assertEqual(self.client.get(base).status_code, 200, base)
            self.assertEqual(self.client.get(f"{base}{pk}/change/").status_code, 200, base)
            self.assertEqual(self.client.get(f"{base}add/").status_code, 403, base)
            self.assertEqual(self.client.post(f"{base}{pk}/change/", {}).status_code, 403, base)
            self.assertEqual(
                self.client.post(f"{base}{pk}/delete/", {"post": "yes"}).status_code, 403
            )
        self.assertEqual(self.client.get("/admin/sla/clock/add/").status_code, 403)
        self.assertEqual(Event.objects.filter(pk=event.pk).count(), 1)


class AdminPoliciesThroughActions(SustainTestCase):
    def setUp(self):
        self.client.force_login(self.root)
        root_api = self.api(self.root)
        calendar = root_api.post("/api/v1/sla/calendars", {"name": "24x7", "always": True}).json()
        self.policy = Policy.objects.get(
            pk=root_api.post(
                "/api/v1/sla/policies",
                {
                    "name": "Everyone",
                    "calendar": calendar["id"],
                    "targets": [{"priority": 3, "metric": "resolution", "minutes": 60}],
                },
            ).json()["id"]
        )

    def test_the_changelist_edit_records_the_event(self):
        response = self.client.post(
            "/admin/sla/policy/",
            {
                "form-TOTAL_FORMS": "1",
                "form-INITIAL_FORMS": "1",
                "form-0-id": str(self.policy.pk),
                "form-0-order": "5",
                "_save": "Save",
            },
        )
        self.assertEqual(response.status_code, 302, response.content[:1000])
        self.policy.refresh_from_db()
        self.assertEqual((self.policy.order, self.policy.active), (5, False))
        updated = Event.objects.get(target_type="sla.policy", verb="updated")
        self.assertEqual(updated.after["order"], "5")
        self.assertEqual(self.policy.targets.count(), 1)

    def test_a_policy_that_measured_tickets_cannot_be_deleted_in_the_admin(self):
        self.open_ticket(self.carol)
        url = f"/admin/sla/policy/{self.policy.pk}/delete/"
        # Its clocks are read-only records, so the admin cannot delete what they belong to.
        self.assertContains(self.client.get(url), "Cannot delete policy")
        self.assertEqual(self.client.post(url, {"post": "yes"}).status_code, 403)
        self.assertTrue(Policy.objects.filter(pk=self.policy.pk).exists())
        self.assertTrue(Clock.objects.exists())


class OtherRowsBadBehindValidation(SustainTestCase):
    def test_a_calendar_page_and_the_due_endpoint_say_what_is_wrong(self):
        root_api = self.api(self.root)
        calendar = root_api.post("/api/v1/sla/calendars", {"name": "Office", "hours": WEEKDAYS})
        pk = calendar.json()["id"]
        Calendar.objects.filter(pk=pk).update(timezone="Mars/Olympus")
        response = root_api.get(
            f"/api/v1/sla/calendars/{pk}/due", start="2026-10-19T09:00:00+00:00", minutes=60
        )
        self.assertEqual(response.status_code, 409, response.content)
        self.assertIn("Mars/Olympus", response.json()["detail"])
        self.client.force_login(self.alice)
        self.assertContains(self.client.get(f"/sla/calendars/{pk}"), "cannot be used")

    def test_a_bad_rotation_or_escalation_level_does_not_stop_the_sweep_or_the_page(self):
        from datetime import UTC, datetime

        from sustain.sla import actions as sla
        from sustain.sla import escalation
        from sustain.sla.models import EscalationLevel, OnCallSchedule

        sla.create_schedule(
            self.root,
            team=self.service_desk,
            name="Desk",
            slug="desk",
            participants=[self.alice],
            rotation_start=datetime(2026, 10, 19).date(),
        )
        OnCallSchedule.objects.update(timezone="Mars/Olympus")
        self.client.force_login(self.alice)
        self.assertContains(self.client.get("/sla/oncall"), "schedule misconfigured")
        rule = sla.create_escalation_rule(
            self.root,
            name="P1",
            condition="p1_opened",
            levels=[{"actions": [{"do": "raise_priority"}]}],
        )
        EscalationLevel.objects.filter(rule=rule).update(actions={"do": "raise_priority"})
        self.open_ticket(self.carol, impact=1, urgency=1)
        with self.assertLogs("sustain.sla.escalation", logging.ERROR):
            self.assertEqual(escalation.escalate_due(datetime(2030, 1, 1, tzinfo=UTC)), 0)
