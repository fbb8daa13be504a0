"""The agent queue page at /desk/: queues, filters, full-text search and paging."""

from django.test import Client

from sustain.desk import actions as desk
from tests.desk.queue_data import KEY, QueueData


class QueuePageTests(QueueData):
    def setUp(self):
        self.client = Client()
        self.client.force_login(self.alice)

    def shown(self, **params) -> list[str]:
        response = self.client.get("/desk/", params)
        self.assertEqual(response.status_code, 200, response.content[:500])
        return KEY.findall(response.content.decode())

    def test_the_default_queue_is_every_open_ticket(self):
        self.assertEqual(
            self.shown(),
            self.keys(self.printer, self.access, self.invoice, self.globex_ticket, self.cafe),
        )

    def test_named_queues(self):
        self.assertEqual(self.shown(queue="mine"), self.keys(self.printer))
        self.assertEqual(self.shown(queue="team"), self.keys(self.printer, self.globex_ticket))
        self.assertEqual(
            self.shown(queue="unassigned"), self.keys(self.access, self.invoice, self.cafe)
        )
        self.assertEqual(len(self.shown(queue="all")), 6)

    def test_filter_by_status(self):
        self.assertEqual(self.shown(status="resolved"), self.keys(self.done))
        self.assertEqual(self.shown(status="pending,resolved"), self.keys(self.invoice, self.done))
        response = self.client.get("/desk/?status=new&status=pending")
        self.assertEqual(
            KEY.findall(response.content.decode()), self.keys(self.access, self.invoice, self.cafe)
        )

    def test_filter_by_priority(self):
        self.assertEqual(self.shown(priority="1"), self.keys(self.printer))
        self.assertEqual(self.shown(priority="1,2"), self.keys(self.printer, self.globex_ticket))

    def test_filter_by_organization(self):
        self.assertEqual(
            self.shown(organization="globex"), self.keys(self.globex_ticket, self.cafe)
        )

    def test_filter_by_team(self):
        self.assertEqual(self.shown(team="operations"), self.keys(self.invoice))
        self.assertEqual(self.shown(team="none", queue="open"), self.keys(self.access, self.cafe))

    def test_filter_by_assignee(self):
        self.assertEqual(
            self.shown(assignee="bob@northwind.test", queue="all"),
            self.keys(self.done, self.globex_ticket),
        )
        self.assertEqual(self.shown(assignee="me"), self.keys(self.printer))
        self.assertEqual(
            self.shown(assignee="none"), self.keys(self.access, self.invoice, self.cafe)
        )

    def test_filter_by_kind(self):
        self.assertEqual(self.shown(kind="request"), self.keys(self.access))

    def test_filter_by_creation_dates(self):
        self.assertEqual(
            self.shown(queue="all", created_after="2026-01-10", created_before="2026-01-21"),
            self.keys(self.access, self.invoice, self.done),
        )
        self.assertEqual(
            self.shown(queue="all", created_after="2026-01-25T10:00:00+00:00"),
            self.keys(self.globex_ticket, self.cafe),
        )

    def test_full_text_search_matches_every_word_as_a_prefix(self):
        self.assertEqual(self.shown(q="invoice"), self.keys(self.printer, self.invoice))
        self.assertEqual(self.shown(q="invo round"), self.keys(self.invoice))
        self.assertEqual(self.shown(q="zürich"), self.keys(self.printer))
        self.assertEqual(self.shown(q=self.cafe.key), self.keys(self.cafe))
        self.assertEqual(self.shown(q="invoice nothing-like-this"), [])

    def test_filters_combine(self):
        self.assertEqual(
            self.shown(organization="acme", team="service-desk", queue="all"),
            self.keys(self.printer, self.done),
        )

    def test_a_bad_filter_is_explained_not_a_crash(self):
        for params, message in (
            ({"status": "bogus"}, "Unknown status"),
            ({"priority": "9"}, "priority must be 1, 2, 3 or 4"),
            ({"created_after": "yesterday"}, "created_after must be a date"),
            ({"queue": "everything"}, "queue must be one of"),
        ):
            with self.subTest(params=params):
                response = self.client.get("/desk/", params)
                self.assertContains(response, message, status_code=422)
                self.assertEqual(KEY.findall(response.content.decode()), [])

    def test_an_htmx_request_gets_the_rows_alone(self):
        response = self.client.get("/desk/", {"priority": "1"}, headers={"HX-Request": "true"})
        self.assertEqual(KEY.findall(response.content.decode()), self.keys(self.printer))
        self.assertNotContains(response, "<html")

    def test_the_queue_pages_through_all_open_tickets(self):
        for n in range(55):
            desk.open_ticket(self.carol, title=f"Bulk {n}")
        first = self.client.get("/desk/")
        first_keys = KEY.findall(first.content.decode())
        self.assertEqual(len(first_keys), 50)
        next_url = first.context["next_url"]
        second_keys = KEY.findall(self.client.get(next_url).content.decode())
        self.assertEqual(len(second_keys), 10)
        self.assertFalse(set(first_keys) & set(second_keys))

    def test_customers_are_turned_away(self):
        client = Client()
        client.force_login(self.carol)
        self.assertEqual(client.get("/desk/").status_code, 403)


class SavedFilterTests(QueueData):
    def setUp(self):
        self.client = Client()
        self.client.force_login(self.alice)

    def test_saving_the_current_filter_returns_to_it_and_lists_it(self):
        response = self.client.post(
            "/desk/filters", {"name": "Acme P1", "query": "?organization=acme&priority=1"}
        )
        self.assertRedirects(response, "/desk/?organization=acme&priority=1")
        page = self.client.get("/desk/")
        self.assertContains(page, "Acme P1")
        self.assertContains(page, "organization=acme&amp;priority=1")

    def test_a_private_filter_is_not_shown_to_other_agents_but_a_shared_one_is(self):
        self.client.post("/desk/filters", {"name": "Mine only", "query": "queue=mine"})
        self.client.post(
            "/desk/filters", {"name": "For everyone", "query": "status=pending", "shared": "on"}
        )
        bob = Client()
        bob.force_login(self.bob)
        page = bob.get("/desk/")
        self.assertContains(page, "For everyone")
        self.assertNotContains(page, "Mine only")

    def test_saving_under_an_existing_name_replaces_it(self):
        desk.save_filter(self.alice, name="Hot", query="priority=1")
        desk.save_filter(self.alice, name="Hot", query="?priority=1,2")
        saved = self.alice.saved_filters.get()
        self.assertEqual(saved.query, "priority=1,2")

    def test_a_filter_needs_a_name(self):
        response = self.client.post(
            "/desk/filters", {"name": "", "query": "queue=mine"}, follow=True
        )
        self.assertContains(response, "Give the filter a name.")
        self.assertFalse(self.alice.saved_filters.exists())

    def test_customers_have_no_saved_filters(self):
        client = Client()
        client.force_login(self.carol)
        self.assertEqual(client.post("/desk/filters", {"name": "x", "query": ""}).status_code, 403)
        from sustain.core.errors import Forbidden

        with self.assertRaises(Forbidden):
            desk.save_filter(self.carol, name="x", query="")
