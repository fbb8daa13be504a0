"""The triage clock (business time of the SLA engine), its sweep, and bugs made from tickets."""

from datetime import UTC, datetime, timedelta

import time_machine

from sustain.bugs import actions as bugs
from sustain.bugs import triage
from sustain.bugs.models import Bug, BugTicket, Severity, Status, TriageTarget
from sustain.core.errors import Forbidden, Invalid
from sustain.core.events import for_target
from sustain.core.models import OutboxMessage
from sustain.sla import actions as sla
from tests.bugs.base import BugTestCase

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


class TriageClockTests(BugTestCase):
    def test_defaults_without_targets_run_around_the_clock(self):
        expected = {
            Severity.BLOCKER: timedelta(hours=1),
            Severity.CRITICAL: timedelta(hours=4),
            Severity.MAJOR: timedelta(hours=8),
            Severity.MINOR: timedelta(days=3),
            Severity.TRIVIAL: timedelta(days=5),
        }
        with time_machine.travel(MONDAY, tick=False):
            for severity, delay in expected.items():
                bug = self.bug(severity=severity)
                self.assertEqual(bug.triage_due_at, MONDAY + delay, severity)

    def test_a_target_with_a_calendar_counts_business_hours(self):
        calendar = sla.create_calendar(
            self.root,
            name="Office",
            timezone_name="UTC",
            hours={d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        )
        TriageTarget.objects.create(severity=Severity.MAJOR, minutes=10 * 60, calendar=calendar)
        friday_afternoon = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
        with time_machine.travel(friday_afternoon, tick=False):
            bug = self.bug()
        # 2 h on Friday, then 8 h on Monday: Monday 17:00.
        self.assertEqual(bug.triage_due_at, datetime(2026, 3, 9, 17, 0, tzinfo=UTC))

    def test_a_target_without_calendar_is_24x7(self):
        TriageTarget.objects.create(severity=Severity.MINOR, minutes=90)
        with time_machine.travel(MONDAY, tick=False):
            self.assertEqual(
                self.bug(severity="minor").triage_due_at, MONDAY + timedelta(minutes=90)
            )

    def test_changing_severity_of_a_new_bug_moves_its_clock(self):
        with time_machine.travel(MONDAY, tick=False):
            bug = self.bug(severity="trivial")
            bugs.update_bug(self.alice, bug, severity="blocker")
        self.assertEqual(bug.triage_due_at, MONDAY + timedelta(hours=1))

    def test_clock_states(self):
        with time_machine.travel(MONDAY, tick=False):
            bug = self.bug(severity="blocker")
        self.assertEqual(triage.clock(bug, MONDAY)["state"], "due")
        self.assertEqual(triage.clock(bug, MONDAY + timedelta(hours=2))["state"], "overdue")
        bugs.transition(self.alice, bug, Status.TRIAGED)
        self.assertEqual(triage.clock(bug, MONDAY + timedelta(hours=2))["state"], "stopped")


class TriageSweepTests(BugTestCase):
    def test_overdue_bugs_are_flagged_and_the_lead_told_once(self):
        with time_machine.travel(MONDAY, tick=False):
            late = self.bug(severity="blocker", team=self.service_desk)
            orphan = self.bug(severity="blocker", title="No team")
            on_time = self.bug(severity="trivial")
            handled = self.bug(severity="blocker", title="Handled")
            bugs.transition(self.alice, handled, Status.TRIAGED)
        later = MONDAY + timedelta(hours=2)
        self.assertEqual(triage.sweep(later), 2)
        self.assertEqual(triage.sweep(later), 0)  # claimed once
        late.refresh_from_db()
        self.assertEqual(late.triage_breached_at, later)
        on_time.refresh_from_db()
        self.assertIsNone(on_time.triage_breached_at)
        self.assertEqual(self.verbs(late).count("triage_overdue"), 1)

        def subjects(user):
            mails = OutboxMessage.objects.filter(payload__to=[user.email])
            return " ".join(m.payload["subject"] for m in mails)

        self.assertIn(f"[{late.key}] triage overdue", subjects(self.alice))
        # No team lead: the managers (mia) and administrators hear of it.
        self.assertIn(f"[{orphan.key}] triage overdue", subjects(self.mia))
        self.assertNotIn(f"[{late.key}]", subjects(self.mia))

    def test_the_task_runs_the_sweep(self):
        from sustain.bugs.tasks import sweep_triage

        with time_machine.travel(MONDAY, tick=False):
            self.bug(severity="blocker")
        with time_machine.travel(MONDAY + timedelta(hours=3), tick=False):
            self.assertEqual(sweep_triage.call_local(), 1)


class FromTicketTests(BugTestCase):
    def test_a_bug_from_a_ticket_carries_it_over_and_links_both_ways(self):
        ticket = self.open_ticket(
            title="Export totals off by a cent",
            description="Seen on the March export",
            affected_ci=self.acme_prod,
        )
        bug = bugs.create_bug_from_ticket(self.alice, ticket, severity="critical")
        bug.refresh_from_db()
        self.assertEqual(bug.title, ticket.title)
        self.assertEqual(bug.description, ticket.description)
        self.assertEqual(bug.product, self.product)  # what the item runs
        self.assertEqual(bug.environment, self.acme_prod)
        self.assertEqual(list(bug.affected_versions.all()), [self.version])
        self.assertEqual(bug.lines.get().introduced_in, self.version)
        self.assertTrue(BugTicket.objects.filter(bug=bug, ticket=ticket).exists())
        self.assertEqual(
            (bug.incident_count, bug.organization_count, bug.environment_count), (1, 1, 1)
        )
        self.assertIn("created_from_ticket", self.verbs(bug))
        ticket_event = for_target(ticket).get(verb="bug_created")
        self.assertFalse(ticket_event.is_public)
        self.assertEqual(ticket_event.after["bug"], bug.key)

    def test_a_ticket_without_product_needs_one(self):
        ticket = self.open_ticket()
        with self.assertRaises(Invalid) as caught:
            bugs.create_bug_from_ticket(self.alice, ticket)
        self.assertEqual(caught.exception.errors[0]["field"], "product")
        bug = bugs.create_bug_from_ticket(
            self.alice, ticket, product=self.other_product, title="Shorter title"
        )
        self.assertEqual(bug.title, "Shorter title")
        self.assertFalse(bug.affected_versions.exists())  # the item runs another product

    def test_customers_cannot(self):
        ticket = self.open_ticket()
        with self.assertRaises(Forbidden):
            bugs.create_bug_from_ticket(self.carol, ticket, product=self.product)
        self.assertFalse(Bug.objects.exists())
