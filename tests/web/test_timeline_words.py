"""Timelines say what happened in words: labels, not stored values, and times in the viewer's
zone with the zone named (desk, portal, bug and release pages)."""

from __future__ import annotations

from django.test import Client

from sustain.bugs import actions as bugs
from sustain.bugs.lines import set_line_status
from sustain.desk import actions as desk
from sustain.releases import actions as releases
from tests.bugs.base import BugTestCase


class TimelineWordsTests(BugTestCase):
    def page(self, user, path: str) -> str:
        client = Client()
        client.force_login(user)
        response = client.get(path)
        self.assertEqual(response.status_code, 200, path)
        return response.content.decode()

    def test_the_desk_and_portal_timelines_tell_changes_in_words(self):
        ticket = self.open_ticket()
        desk.transition(self.alice, ticket, "open")
        desk.set_priority(self.alice, ticket, 1, reason="Checkout is down for everyone")
        desk.update_ticket(self.alice, ticket, tags=["nginx"])
        page = self.page(self.alice, f"/desk/t/{ticket.key}")
        self.assertIn("changed the status from New to Open", page)
        self.assertIn("changed the priority from P3 medium to P1 critical", page)
        self.assertIn("added the tag nginx", page)
        for internal in ("→", "[]", "['nginx']", "priority 3"):
            self.assertNotIn(internal, page)
        portal = self.page(self.carol, f"/portal/t/{ticket.key}")
        self.assertIn("changed the status from New to Open", portal)
        self.assertNotIn("→", portal)

    def test_times_are_in_the_viewers_zone_and_say_which(self):
        ticket = self.open_ticket()
        self.assertIn(" UTC</time>", self.page(self.alice, f"/desk/t/{ticket.key}"))
        self.alice.time_zone = "Asia/Tokyo"
        self.alice.save()
        page = self.page(self.alice, f"/desk/t/{ticket.key}")
        self.assertIn(" JST</time>", page)
        self.assertNotIn(" UTC</time>", page)

    def test_the_bug_timeline_uses_status_labels_and_names_the_release_line(self):
        bug = self.bug()
        bugs.transition(self.alice, bug, "triaged")
        bugs.transition(self.alice, bug, "in_progress")
        set_line_status(
            self.alice, bug, major=2, minor=4, status="fixed", fixed_version=self.v["2.4.2"]
        )
        page = self.page(self.alice, f"/bugs/b/{bug.key}")
        self.assertIn("changed the status from Triaged to In progress", page)
        self.assertIn("changed release line 2.4: status Fixed, fixed in 2.4.2", page)
        for internal in ("in_progress", "fixed_version", "→"):
            self.assertNotIn(internal + " ", page.split('id="timeline-list"')[1].split("</ol>")[0])

    def test_the_release_timeline_uses_labels(self):
        release = releases.create_release(
            self.alice, product=self.product, version="2.5.2", kind="patch"
        )
        releases.transition(self.alice, release, "testing")
        page = self.page(self.mia, f"/releases/{release.pk}")
        self.assertIn("changed the status from Planned to Testing", page)
        self.assertNotIn("status planned → testing", page)
