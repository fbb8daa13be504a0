"""The daily digest: what was held for someone is mailed once, together, at their local hour."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from sustain.desk import actions as desk
from sustain.notifications import digest
from sustain.notifications.models import DigestItem
from tests.notifications.test_rules import MailTestCase

BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN)


class DigestTests(MailTestCase):
    def setUp(self):
        self.cathy.time_zone = "Europe/Berlin"
        self.cathy.save()
        self.prefer(self.cathy, public_reply="digest", status_changed="digest")
        with time_machine.travel(MONDAY - timedelta(hours=1), tick=False):
            self.ticket = self.open_ticket(self.carol, title="Slow reports", watchers=[self.cathy])
        self.sent()

    def reply(self, at: datetime, body: str) -> None:
        with time_machine.travel(at, tick=False):
            desk.add_comment(self.alice, self.ticket, body)

    def run_digests(self, at: datetime) -> list:
        with time_machine.travel(at, tick=False):
            digest.send_due()
            return [m for m in self.sent() if "digest" in m.subject]

    def test_the_days_items_arrive_in_one_mail_at_the_digest_hour(self):
        self.reply(MONDAY, "Looking into it.")
        self.reply(MONDAY + timedelta(hours=5), "Found the slow query.")
        with time_machine.travel(MONDAY + timedelta(hours=6), tick=False):
            desk.transition(self.alice, self.ticket, "resolved")
        self.assertEqual(self.to(), [self.carol.email] * 3)  # carol at once, cathy not

        tuesday_7 = datetime(2026, 11, 24, 7, 0, tzinfo=BERLIN)
        self.assertEqual(self.run_digests(tuesday_7 - timedelta(minutes=1)), [])
        [message] = self.run_digests(tuesday_7)
        self.assertEqual(message.to, [self.cathy.email])
        self.assertEqual(message.subject, "Your Sustain digest: 3 updates")
        self.assertLess(message.body.index("Looking into it."), message.body.index("slow query"))
        self.assertIn(f"[{self.ticket.key}] Slow reports (Resolved)", message.body)
        self.assertIn("Mon 10:00", message.body)  # in her time zone
        [(html, _)] = message.alternatives
        self.assertIn(f"/portal/t/{self.ticket.key}", html)
        # Sent once: the next run finds nothing.
        self.assertEqual(self.run_digests(tuesday_7 + timedelta(minutes=15)), [])
        self.assertFalse(DigestItem.objects.filter(sent_at__isnull=True).exists())

    def test_what_comes_after_the_hour_waits_for_the_next_day(self):
        tuesday_7 = datetime(2026, 11, 24, 7, 0, tzinfo=BERLIN)
        self.reply(tuesday_7 + timedelta(minutes=30), "A late one.")
        self.assertEqual(self.run_digests(tuesday_7 + timedelta(hours=1)), [])
        self.assertEqual(self.run_digests(tuesday_7 + timedelta(hours=23, minutes=59)), [])
        [message] = self.run_digests(tuesday_7 + timedelta(days=1))
        self.assertEqual(message.subject, "Your Sustain digest: 1 update")

    def test_a_missed_hour_is_caught_up_later_that_day(self):
        self.reply(MONDAY, "Looking into it.")
        [message] = self.run_digests(datetime(2026, 11, 24, 13, 0, tzinfo=BERLIN))
        self.assertEqual(message.to, [self.cathy.email])

    def test_each_person_gets_theirs_at_their_own_hour_and_in_their_language(self):
        self.carol.time_zone, self.carol.language = "Asia/Tokyo", "de"
        self.carol.save()
        self.prefer(self.carol, public_reply="digest", digest_hour=9)
        self.reply(MONDAY, "Looking into it.")
        tokyo_9 = datetime(2026, 11, 24, 9, 0, tzinfo=TOKYO)  # Tuesday 01:00 in Berlin
        [to_carol] = self.run_digests(tokyo_9)
        self.assertEqual(to_carol.to, [self.carol.email])
        self.assertIn("Mo 18:00", to_carol.body)  # Monday 10:00 Berlin, in Tokyo, in German
        [(html, _)] = to_carol.alternatives
        self.assertIn('<html lang="de">', html)
        [to_cathy] = self.run_digests(datetime(2026, 11, 24, 7, 0, tzinfo=BERLIN))
        self.assertEqual(to_cathy.to, [self.cathy.email])

    def test_two_workers_never_send_the_same_items(self):
        self.reply(MONDAY, "Looking into it.")
        now = datetime(2026, 11, 24, 8, 0, tzinfo=BERLIN)
        cutoff = digest.cutoff(self.cathy, now)
        self.assertEqual(cutoff, datetime(2026, 11, 24, 7, 0, tzinfo=BERLIN))
        self.assertEqual(digest.send_digest(self.cathy, cutoff, now), 1)
        self.assertEqual(digest.send_digest(self.cathy, cutoff, now), 0)
