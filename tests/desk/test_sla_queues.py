"""The SLA-first queues: order=due, queue=breached and queue=due_soon on the desk and the API.

Seven tickets opened at 08:00 under a round-the-clock policy (first response 60 min for P1,
240 for P3, 480 for P4; warning at 75 %), looked at 200 minutes later:

- late:    Acme P1, first response due 09:00: breached
- soon:    Acme P3, due 12:00, warned at 11:00: due soon
- calm:    Acme P4, due 16:00, warning at 14:00: neither
- waiting: Acme P1, pending since 08:10: paused, no due time
- request: Acme P3 service request: no policy applies, no clock
- done:    Acme P1, resolved: its clocks stopped
- faraway: Globex P1, due 09:00: breached, for those who serve Globex
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sustain.accounts import actions as accounts
from sustain.desk import actions as desk
from sustain.desk.models import Status, Ticket
from sustain.sla.models import Calendar, Metric, Policy, Target
from tests.base import SustainTestCase
from tests.desk.queue_data import KEY

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LOOK = T0 + timedelta(minutes=200)
FIRST_RESPONSE = {1: 60, 2: 120, 3: 240, 4: 480}


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


class SlaQueueData(SustainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        calendar = Calendar.objects.create(name="24x7", always=True)
        cls.policy = Policy.objects.create(
            name="Incidents", calendar=calendar, kind="incident", pause_statuses=["pending"]
        )
        for priority, first in FIRST_RESPONSE.items():
            Target.objects.create(
                policy=cls.policy, priority=priority, metric=Metric.FIRST_RESPONSE, minutes=first
            )
            Target.objects.create(
                policy=cls.policy, priority=priority, metric=Metric.RESOLUTION, minutes=first * 8
            )
        cls.sam = accounts.create_user(
            cls.root,
            email="sam@northwind.test",
            name="Sam Acme-only",
            organization=cls.provider,
            role="agent",
            serves_all_organizations=False,
            served_organizations=[cls.acme],
        )
        with time_machine.travel(T0, tick=False):
            cls.late = cls.opened("Database down", 1, 1)
            cls.soon = cls.opened("Report is slow", 2, 2)
            cls.calm = cls.opened("Typo on the invoice", 3, 3)
            cls.waiting = cls.opened("Logs needed", 1, 1)
            cls.request = desk.open_ticket(cls.carol, title="New account", kind="request")
            cls.done = cls.opened("Fixed already", 1, 1)
            cls.faraway = desk.open_ticket(cls.dave, title="Globex down", impact=1, urgency=1)
        with time_machine.travel(minutes(10), tick=False):
            desk.transition(cls.alice, cls.waiting, Status.PENDING)
            desk.transition(cls.alice, cls.done, Status.RESOLVED)

    @classmethod
    def opened(cls, title: str, impact: int, urgency: int) -> Ticket:
        return desk.open_ticket(cls.carol, title=title, impact=impact, urgency=urgency)

    def keys(self, *tickets: Ticket) -> list[str]:
        return [t.key for t in tickets]

    def desk_keys(self, user=None, when: datetime = LOOK, **params) -> list[str]:
        client = Client()
        client.force_login(user or self.alice)
        with time_machine.travel(when, tick=False):
            response = client.get("/desk/", params)
        self.assertEqual(response.status_code, 200, response.content[:300])
        return KEY.findall(response.content.decode())

    def api_keys(self, user=None, when: datetime = LOOK, **params) -> list[str]:
        with time_machine.travel(when, tick=False):
            response = self.api(user or self.alice).get("/api/v1/tickets", **params)
        self.assertEqual(response.status_code, 200, response.content)
        return [row["key"] for row in response.json()["results"]]


class SlaQueueTests(SlaQueueData):
    def test_breached_lists_the_active_clocks_past_their_due_time_most_overdue_first(self):
        expected = self.keys(self.late, self.faraway)
        self.assertEqual(self.desk_keys(queue="breached"), expected)
        self.assertEqual(self.api_keys(queue="breached"), expected)

    def test_due_soon_lists_the_clocks_past_their_warning_not_yet_due(self):
        self.assertEqual(self.desk_keys(queue="due_soon"), self.keys(self.soon))
        self.assertEqual(self.api_keys(queue="due_soon"), self.keys(self.soon))

    def test_the_queues_move_with_time_alone(self):
        # 10:30: nothing else has warned yet; 11:30: soon warned; 12:30: soon breached too.
        self.assertEqual(self.desk_keys(queue="due_soon", when=minutes(150)), [])
        self.assertEqual(self.desk_keys(queue="due_soon", when=minutes(210)), self.keys(self.soon))
        self.assertEqual(
            self.desk_keys(queue="breached", when=minutes(270)),
            self.keys(self.late, self.faraway, self.soon),
        )
        self.assertEqual(self.desk_keys(queue="due_soon", when=minutes(400)), self.keys(self.calm))
        # Before 09:00 nothing is breached.
        self.assertEqual(self.desk_keys(queue="breached", when=minutes(59)), [])

    def test_order_due_puts_the_nearest_due_first_and_tickets_without_a_clock_last(self):
        expected = self.keys(
            self.late, self.faraway, self.soon, self.calm, self.waiting, self.request
        )
        self.assertEqual(self.desk_keys(queue="open", order="due"), expected)
        self.assertEqual(self.api_keys(queue="open", order="due"), expected)
        # Without a queue: every ticket, the resolved one among those without a clock.
        self.assertEqual(
            self.api_keys(order="due")[-3:], self.keys(self.waiting, self.request, self.done)
        )

    def test_the_sla_queues_default_to_due_order_and_say_so(self):
        client = Client()
        client.force_login(self.alice)
        with time_machine.travel(LOOK, tick=False):
            page = client.get("/desk/", {"queue": "breached"}).content.decode()
        self.assertIn('<option value="due" selected>SLA due first</option>', page)
        self.assertIn('aria-current="page">SLA breached', page)
        self.assertEqual(
            self.desk_keys(queue="breached", order="newest"), self.keys(self.faraway, self.late)
        )

    def test_an_agent_who_serves_only_acme_sees_only_acme_tickets(self):
        self.assertEqual(self.desk_keys(self.sam, queue="breached"), self.keys(self.late))
        self.assertEqual(self.api_keys(self.sam, queue="breached"), self.keys(self.late))
        self.assertNotIn(self.faraway.key, self.api_keys(self.sam, queue="open", order="due"))

    def test_a_customer_asking_the_api_sees_only_their_organization(self):
        self.assertEqual(self.api_keys(self.dave, queue="breached"), self.keys(self.faraway))
        self.assertEqual(self.api_keys(self.dave, queue="due_soon"), [])

    def test_the_sidebar_counts_the_sla_queues(self):
        client = Client()
        client.force_login(self.alice)
        with time_machine.travel(LOOK, tick=False):
            page = client.get("/desk/").content.decode()
        self.assertIn('SLA breached <span class="count count-red">2</span>', page)
        self.assertIn('SLA due soon <span class="count count-amber">1</span>', page)
        client.force_login(self.sam)
        with time_machine.travel(LOOK, tick=False):
            page = client.get("/desk/").content.decode()
        self.assertIn('SLA breached <span class="count count-red">1</span>', page)

    def test_a_bad_queue_or_order_names_the_field(self):
        response = self.api(self.alice).get("/api/v1/tickets", order="soonest")
        self.assertEqual(response.status_code, 422)
        self.assertIn("due", response.content.decode())
        self.assertEqual(self.api(self.alice).get("/api/v1/tickets", queue="late").status_code, 422)

    def test_keys_and_times_never_wrap_and_times_are_short(self):
        client = Client()
        client.force_login(self.alice)
        with time_machine.travel(minutes(19 * 60 + 5), tick=False):
            page = client.get("/desk/", {"queue": "open"}).content.decode()
        self.assertIn('class="key">', page)
        self.assertIn('<td class="when">', page)
        self.assertIn(">19\xa0h ago</time>", page)  # updated at 08:00 / 08:10, seen at 03:05
        self.assertIn("response overdue 11\xa0h", page)  # the P4: first response due 16:00
        with open("src/sustain/static/sustain/sustain.css") as css:
            self.assertIn("table.tickets .key, table.tickets td.when", css.read())


class SlaQueuePagingTests(SlaQueueData):
    def walk(self, user=None, **params) -> list[str]:
        """Every key of a list, two per page, following the `next` links."""
        api = self.api(user or self.alice)
        path, keys = "/api/v1/tickets", []
        query = {"limit": 2, **params}
        with time_machine.travel(LOOK, tick=False):
            while path:
                body = api.get(path, **query).json()
                keys += [row["key"] for row in body["results"]]
                path, query = (body["next"] or "").replace("http://testserver", ""), {}
        return keys

    def test_paging_by_due_crosses_from_the_clocked_tickets_to_those_without(self):
        self.assertEqual(
            self.walk(queue="open", order="due"),
            self.keys(self.late, self.faraway, self.soon, self.calm, self.waiting, self.request),
        )

    def test_paging_the_breached_queue(self):
        self.assertEqual(self.walk(queue="breached"), self.keys(self.late, self.faraway))

    def test_a_cursor_of_the_due_order_is_refused_by_another_order(self):
        api = self.api(self.alice)
        with time_machine.travel(LOOK, tick=False):
            first = api.get("/api/v1/tickets", queue="open", order="due", limit=1).json()
            cursor = first["next"].split("cursor=")[1].split("&")[0]
            response = api.get("/api/v1/tickets", queue="open", order="oldest", cursor=cursor)
        self.assertEqual(response.status_code, 422)
        self.assertIn("cursor", response.content.decode())

    def test_the_desk_pages_fifty_at_a_time_in_due_order(self):
        with time_machine.travel(minutes(20), tick=False):
            extra = [self.opened(f"Burst {n}", 3, 3) for n in range(50)]  # P4, due 16:20
        client = Client()
        client.force_login(self.alice)
        with time_machine.travel(LOOK, tick=False):
            response = client.get("/desk/", {"queue": "open", "order": "due"})
            first = KEY.findall(response.content.decode())
            next_url = response.context["next_url"]
            second = KEY.findall(client.get(next_url).content.decode())
        self.assertEqual(len(first), 50)
        self.assertEqual(first[:4], self.keys(self.late, self.faraway, self.soon, self.calm))
        self.assertEqual(first[4:], self.keys(*extra[:46]))
        self.assertEqual(second, self.keys(*extra[46:], self.waiting, self.request))


class SlaQueueQueryCountTests(SlaQueueData):
    def count(self, fetch) -> int:
        with CaptureQueriesContext(connection) as queries:
            fetch()
        return len(queries)

    def test_the_sla_queues_cost_the_same_for_few_and_many_tickets(self):
        client = Client()
        client.force_login(self.alice)
        api = self.api(self.alice)

        def desk_page(queue: str):
            with time_machine.travel(LOOK, tick=False):
                self.assertEqual(client.get("/desk/", {"queue": queue}).status_code, 200)

        def api_page(queue: str):
            with time_machine.travel(LOOK, tick=False):
                self.assertEqual(api.get("/api/v1/tickets", queue=queue).status_code, 200)

        def add(count: int) -> None:
            """P1 (breached at LOOK) and P3 (due soon) rows with every relation a row shows."""
            with time_machine.travel(T0, tick=False):
                for n in range(count):
                    desk.open_ticket(
                        self.alice,
                        organization=self.acme,
                        requester=self.carol,
                        title=f"Row {n}",
                        impact=1 if n % 2 else 2,
                        urgency=1 if n % 2 else 2,
                        team=self.service_desk,
                        assignee=self.bob,
                        affected_ci=self.acme_prod,
                        tags=["common"],
                        parent=self.calm,
                    )

        def costs() -> dict[str, tuple[int, int]]:
            return {
                queue: (self.count(partial(desk_page, queue)), self.count(partial(api_page, queue)))
                for queue in ("breached", "due_soon")
            }

        add(2)
        api_page("breached")  # the token's first use records last_used_at
        small = costs()
        add(20)
        large = costs()
        self.assertEqual(large, small)
        self.assertLessEqual(small["breached"][0], 20)
        self.assertEqual(len(self.desk_keys(queue="breached")), 13)  # 2 + the 11 new P1s
        self.assertEqual(len(self.desk_keys(queue="due_soon")), 12)  # 1 + the 11 new P3s
