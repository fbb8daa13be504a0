"""Cursor pagination: following `next` visits every row once, in order, whatever happens meanwhile."""

from datetime import UTC, datetime, timedelta

import time_machine

from sustain.desk import actions as desk
from sustain.desk.models import Ticket
from tests.base import SustainTestCase

URL = "/api/v1/tickets"
START = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)


class CursorPaginationTests(SustainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        for n in range(23):
            # Impact and urgency vary so that ordering by priority has many ties.
            with time_machine.travel(START + timedelta(minutes=n), tick=False):
                desk.open_ticket(
                    cls.carol, title=f"Ticket {n}", impact=1 + n % 3, urgency=1 + (n // 3) % 3
                )
        # Several tickets share one updated_at: the id breaks the tie.
        with time_machine.travel(START + timedelta(hours=5), tick=False):
            for ticket in Ticket.objects.filter(title__in=["Ticket 3", "Ticket 4", "Ticket 5"]):
                desk.update_ticket(cls.alice, ticket, description="touched")

    def walk(self, user=None, **params):
        api = self.api(user or self.alice)
        keys, pages = [], 0
        response = api.get(URL, **params)
        while True:
            self.assertEqual(response.status_code, 200, response.content[:300])
            body = response.json()
            keys += [row["key"] for row in body["results"]]
            pages += 1
            if body["next"] is None:
                return keys, pages
            self.assertLessEqual(len(body["results"]), int(params.get("limit", 50)))
            response = api.get(body["next"])

    def expected(self, *order):
        return list(Ticket.objects.order_by(*order).values_list("key", flat=True))

    def test_next_links_walk_every_ticket_once_newest_first(self):
        keys, pages = self.walk(limit=5)
        self.assertEqual(pages, 5)
        self.assertEqual(keys, self.expected("-id"))

    def test_walking_by_priority_keeps_ties_in_order(self):
        keys, _ = self.walk(limit=4, order="priority")
        self.assertEqual(keys, self.expected("priority", "-id"))

    def test_walking_by_update_time_keeps_ties_in_order(self):
        keys, _ = self.walk(limit=2, order="updated")
        self.assertEqual(keys, self.expected("-updated_at", "-id"))
        self.assertEqual(len(set(keys)), 23)

    def test_walking_oldest_first_with_a_filter(self):
        keys, _ = self.walk(limit=3, order="oldest", priority="1,2")
        self.assertEqual(
            keys,
            list(
                Ticket.objects.filter(priority__in=[1, 2])
                .order_by("id")
                .values_list("key", flat=True)
            ),
        )
        self.assertGreater(len(keys), 3)

    def test_tickets_opened_while_paging_do_not_shift_the_pages(self):
        api = self.api(self.alice)
        first = api.get(URL, limit=10).json()
        for n in range(5):
            desk.open_ticket(self.carol, title=f"Meanwhile {n}")
        second = api.get(first["next"]).json()
        seen = [r["key"] for r in first["results"] + second["results"]]
        self.assertEqual(seen, self.expected("-id")[5:25])

    def test_the_last_page_has_no_next_link(self):
        body = self.api(self.alice).get(URL, limit=23).json()
        self.assertEqual(len(body["results"]), 23)
        self.assertIsNone(body["next"])

    def test_a_tampered_cursor_is_422_naming_the_cursor(self):
        next_url = self.api(self.alice).get(URL, limit=5).json()["next"]
        cursor = next_url.split("cursor=")[1].split("&")[0]
        for bad in (cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"), "garbage", "1"):
            with self.subTest(cursor=bad):
                response = self.api(self.alice).get(URL, cursor=bad)
                self.assertEqual(response.status_code, 422)
                self.assertEqual(response.json()["errors"][0]["field"], "cursor")

    def test_a_cursor_from_another_ordering_is_refused(self):
        next_url = self.api(self.alice).get(URL, limit=5).json()["next"]
        cursor = next_url.split("cursor=")[1].split("&")[0]
        response = self.api(self.alice).get(URL, cursor=cursor, order="priority")
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "cursor")

    def test_comments_page_too(self):
        ticket = Ticket.objects.order_by("id").first()
        for n in range(7):
            desk.add_comment(self.alice, ticket, f"Update {n}", is_public=n % 2 == 0)
        api = self.api(self.carol)
        bodies, url = [], f"{URL}/{ticket.key}/comments?limit=2"
        while url:
            body = api.get(url).json()
            bodies += [c["body"] for c in body["results"]]
            url = body["next"]
        self.assertEqual(bodies, ["Update 0", "Update 2", "Update 4", "Update 6"])
