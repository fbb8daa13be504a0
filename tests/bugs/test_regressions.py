"""Regressions, by semantic version per release line and never by date."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.test import override_settings

from sustain.bugs import actions as bugs
from sustain.bugs.models import Status
from sustain.cmdb import actions as cmdb
from sustain.cmdb.models import ConfigItem
from sustain.core.events import for_target
from sustain.core.models import OutboxMessage
from tests.bugs.base import BugTestCase

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class RegressionTests(BugTestCase):
    def env(self, version_name, name=None):
        return cmdb.create_config_item(
            self.root,
            organization=self.acme,
            name=name or f"acme-{version_name}",
            kind=ConfigItem.Kind.ENVIRONMENT,
            product=self.product,
            version=self.v[version_name],
        )

    def closed_bug(self, lines=(), **fields):
        """A P3 bug fixed on `lines` [(major, minor, fixed version name)], verified, closed."""
        with time_machine.travel(DAY, tick=False):
            bug = self.bug(team=self.service_desk, assignee=self.bob, **fields)
            for major, minor, fixed in lines:
                bugs.set_line_status(
                    self.alice,
                    bug,
                    major=major,
                    minor=minor,
                    status="fixed",
                    fixed_version=self.v[fixed],
                )
            for status in (Status.FIXED, Status.VERIFIED, Status.CLOSED):
                bugs.transition(self.alice, bug, status)
        return bug

    def incident(self, bug, version_name=None, *, when=DAY + timedelta(days=1)):
        with time_machine.travel(when, tick=False):
            ci = self.env(version_name) if version_name else None
            ticket = self.open_ticket(self.carol, affected_ci=ci)
            bugs.link_ticket(self.alice, bug, ticket)
        bug.refresh_from_db()
        return bug

    def test_same_line_at_or_above_the_fix_is_a_regression(self):
        bug = self.incident(self.closed_bug([(2, 4, "2.4.2")]), "2.4.3")
        self.assertTrue(bug.is_regression)
        self.assertEqual(bug.regressed_in, self.v["2.4.3"])
        self.assertEqual(bug.priority, 2)  # P3 → P2
        self.assertEqual(bug.status, Status.TRIAGED)  # back in the work queue
        event = for_target(bug).get(verb="regression")
        self.assertEqual(event.after["regressed_in"], "2.4.3")
        self.assertEqual(event.after["priority"], 2)
        mails = OutboxMessage.objects.filter(payload__to=[self.bob.email])
        self.assertTrue(any("regression" in m.payload["subject"] for m in mails))

    def test_an_older_unfixed_version_of_the_line_is_not(self):
        bug = self.incident(self.closed_bug([(2, 4, "2.4.2")]), "2.4.1")
        self.assertFalse(bug.is_regression)
        self.assertEqual(bug.status, Status.CLOSED)
        self.assertEqual(bug.priority, 3)
        self.assertEqual(bug.incident_count, 1)

    def test_a_backport_released_after_a_newer_line_orders_by_version(self):
        # Fixed in 2.5.1 first, then backported as 2.4.3 (released later): an incident on
        # 2.4.2 is an old unfixed version, not a regression, though 2.4.2 < 2.5.1 by date too.
        bug = self.closed_bug([(2, 5, "2.5.1"), (2, 4, "2.4.3")])
        self.assertFalse(self.incident(bug, "2.4.2").is_regression)
        self.assertTrue(self.incident(bug, "2.4.3").is_regression)

    def test_a_line_without_fix_row_is_compared_with_the_highest_fixed_line(self):
        bug = self.closed_bug([(2, 5, "2.5.1")])
        self.assertFalse(self.incident(bug, "2.4.3").is_regression)  # older line, no backport
        bug = self.closed_bug([(2, 5, "2.5.1")], title="Other")
        self.assertTrue(self.incident(bug, "3.0.0").is_regression)  # newer line: carried forward

    def test_a_line_known_to_be_affected_is_not(self):
        bug = self.closed_bug([(2, 5, "2.5.1")])
        bugs.set_line_status(self.alice, bug, major=3, minor=0, status="wont_fix")
        self.assertFalse(self.incident(bug, "3.0.1").is_regression)

    def test_without_line_information_any_version_counts(self):
        self.assertTrue(self.incident(self.closed_bug(), "2.4.0").is_regression)

    def test_without_version_the_latest_released_version_counts(self):
        self.v["2.5.0"].released_at = DAY
        self.v["2.5.0"].save()
        self.v["2.4.3"].released_at = DAY + timedelta(days=3)  # a later backport
        self.v["2.4.3"].save()
        bug = self.incident(self.closed_bug())
        self.assertTrue(bug.is_regression)
        self.assertEqual(bug.regressed_in, self.v["2.5.0"])  # by version, not by date

    def test_open_or_merely_fixed_bugs_do_not_regress(self):
        with time_machine.travel(DAY, tick=False):
            bug = self.bug()
            bugs.transition(self.alice, bug, Status.FIXED)
        self.assertFalse(self.incident(bug, "2.4.3").is_regression)

    def test_an_incident_opened_before_the_fix_is_an_old_report(self):
        with time_machine.travel(DAY - timedelta(days=2), tick=False):
            ticket = self.open_ticket(self.carol, affected_ci=self.env("2.4.3"))
        bug = self.closed_bug([(2, 4, "2.4.2")])
        with time_machine.travel(DAY + timedelta(days=1), tick=False):
            bugs.link_ticket(self.alice, bug, ticket)
        bug.refresh_from_db()
        self.assertFalse(bug.is_regression)

    def test_reopening_a_closed_bug_is_a_regression_in_the_named_version(self):
        bug = self.closed_bug([(2, 4, "2.4.2")])
        bugs.reopen(self.alice, bug, version=self.v["2.4.3"], reason="Back in 2.4.3")
        bug.refresh_from_db()
        self.assertTrue(bug.is_regression)
        self.assertEqual(bug.regressed_in, self.v["2.4.3"])
        self.assertEqual((bug.status, bug.priority), (Status.TRIAGED, 2))
        self.assertEqual(self.verbs(bug)[-3:], ["reopened", "noted", "regression"])

    def test_reopening_wont_fix_is_not(self):
        bug = self.bug()
        bugs.transition(self.alice, bug, Status.WONT_FIX)
        bugs.reopen(self.alice, bug)
        bug.refresh_from_db()
        self.assertFalse(bug.is_regression)

    @override_settings(REGRESSION_RAISES_PRIORITY=False)
    def test_the_priority_raise_is_a_setting(self):
        bug = self.incident(self.closed_bug([(2, 4, "2.4.2")]), "2.4.2")
        self.assertTrue(bug.is_regression)
        self.assertEqual(bug.priority, 3)

    def test_p1_stays_p1(self):
        bug = self.incident(self.closed_bug([(2, 4, "2.4.2")], priority=1), "2.4.2")
        self.assertEqual(bug.priority, 1)

    def test_marking_a_duplicate_brings_its_new_incidents_to_a_closed_original(self):
        original = self.closed_bug([(2, 4, "2.4.2")])
        with time_machine.travel(DAY + timedelta(days=1), tick=False):
            duplicate = self.bug(title="same thing")
            ticket = self.open_ticket(self.carol, affected_ci=self.env("2.4.3"))
            bugs.link_ticket(self.alice, duplicate, ticket)
            bugs.mark_duplicate(self.alice, duplicate, original=original)
        original.refresh_from_db()
        self.assertTrue(original.is_regression)
        self.assertEqual(original.regressed_in, self.v["2.4.3"])
