"""POST, GET and PATCH /api/v1/tickets[/KEY]: creation, the detail, and edits that are
all-or-nothing."""

from django.test import Client

from sustain.core.models import Event
from sustain.desk import actions as desk
from sustain.desk.models import Status, Ticket
from tests.base import SustainTestCase

URL = "/api/v1/tickets"


class CreateTicketApiTests(SustainTestCase):
    def test_an_agent_opens_a_ticket_for_a_customer_with_everything(self):
        response = self.api(self.alice).post(
            URL,
            {
                "title": "Checkout returns 502",
                "description": "Since **10:02**",
                "organization": "acme",
                "requester": "carol@acme.test",
                "affected_ci": self.acme_prod.pk,
                "impact": 1,
                "urgency": 1,
                "team": "service-desk",
                "assignee": "bob@northwind.test",
                "tags": ["Payments", "payments", " outage "],
                "watchers": ["cathy@acme.test"],
            },
        )
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertRegex(body["key"], r"^INC-\d+$")
        self.assertEqual(body["organization"], "acme")
        self.assertEqual(body["requester"], "carol@acme.test")
        self.assertEqual(body["affected_ci"], self.acme_prod.pk)
        self.assertEqual(body["priority"], 1)
        self.assertEqual(body["channel"], "api")
        self.assertEqual((body["team"], body["assignee"]), ("service-desk", "bob@northwind.test"))
        self.assertEqual(body["tags"], ["outage", "payments"])
        self.assertIn("<strong>10:02</strong>", body["description_html"])
        ticket = Ticket.objects.get(key=body["key"])
        self.assertEqual(list(ticket.watchers.all()), [self.cathy])

    def test_a_customer_opens_a_ticket_for_their_own_organization(self):
        response = self.api(self.carol).post(URL, {"title": "Slow", "kind": "request"})
        self.assertEqual(response.status_code, 201)
        self.assertTrue(response.json()["key"].startswith("REQ-"))
        self.assertEqual(response.json()["requester"], "carol@acme.test")
        response = self.api(self.carol).post(URL, {"title": "Slow", "organization": "globex"})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "organization")


class GetTicketApiTests(SustainTestCase):
    def setUp(self):
        self.ticket = self.open_ticket(self.carol, title="Exports fail", affected_ci=self.acme_prod)

    def test_the_requester_colleague_and_agents_read_it(self):
        for user in (self.carol, self.cathy, self.alice, self.mia, self.root):
            with self.subTest(user=user.email):
                response = self.api(user).get(f"{URL}/{self.ticket.key}")
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.json()["title"], "Exports fail")

    def test_the_key_is_case_insensitive(self):
        response = self.api(self.alice).get(f"{URL}/{self.ticket.key.lower()}")
        self.assertEqual(response.json()["key"], self.ticket.key)

    def test_an_outsider_gets_404(self):
        self.assertEqual(self.api(self.dave).get(f"{URL}/{self.ticket.key}").status_code, 404)

    def test_a_colleague_gets_404_when_customers_see_only_their_own(self):
        self.acme.customers_see_all_tickets = False
        self.acme.save()
        self.assertEqual(self.api(self.cathy).get(f"{URL}/{self.ticket.key}").status_code, 404)
        self.assertEqual(self.api(self.carol).get(f"{URL}/{self.ticket.key}").status_code, 200)


class PatchTicketApiTests(SustainTestCase):
    def setUp(self):
        self.ticket = self.open_ticket(self.carol, title="Exports fail", impact=2, urgency=2)
        self.url = f"{URL}/{self.ticket.key}"
        self.events_before = self.ticket_events()

    def ticket_events(self):
        return list(
            Event.objects.filter(target_type="desk.ticket", target_id=self.ticket.pk)
            .order_by("id")
            .values_list("verb", flat=True)
        )

    def assertUnchanged(self):
        fresh = Ticket.objects.get(pk=self.ticket.pk)
        self.assertEqual(
            (fresh.title, fresh.assignee, fresh.team, fresh.priority, fresh.impact, fresh.status),
            ("Exports fail", None, None, 3, 2, Status.NEW),
        )
        self.assertEqual(list(fresh.tags.all()), [])
        self.assertEqual(self.ticket_events(), self.events_before)

    def test_several_fields_change_together(self):
        response = self.api(self.alice).patch(
            self.url,
            {
                "title": "Exports fail after upgrade",
                "impact": 1,
                "team": "service-desk",
                "assignee": "alice@northwind.test",
                "tags": ["exports"],
            },
        )
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["title"], "Exports fail after upgrade")
        self.assertEqual(body["priority"], 2)  # impact 1 × urgency 2
        self.assertEqual(body["assignee"], "alice@northwind.test")
        self.assertEqual(body["status"], "open")
        self.assertEqual(body["tags"], ["exports"])

    def test_a_valid_title_with_an_invalid_assignee_changes_nothing(self):
        response = self.api(self.alice).patch(
            self.url, {"title": "Better title", "assignee": "carol@acme.test"}
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "assignee")
        self.assertUnchanged()

    def test_a_valid_assignment_with_an_invalid_item_changes_nothing(self):
        response = self.api(self.alice).patch(
            self.url,
            {
                "team": "service-desk",
                "assignee": "bob@northwind.test",
                "priority": 1,
                "priority_reason": "VIP",
                "tags": ["x"],
                "affected_ci": self.globex_prod.pk,
            },
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "affected_ci")
        self.assertUnchanged()
        self.assertNotIn(self.bob, self.ticket.watchers.all())

    def test_a_valid_title_with_an_override_missing_its_reason_changes_nothing(self):
        response = self.api(self.alice).patch(self.url, {"title": "Better", "priority": 1})
        self.assertEqual(response.status_code, 422)
        self.assertUnchanged()

    def test_a_schema_error_changes_nothing(self):
        response = self.api(self.alice).patch(self.url, {"title": "Better", "impact": 7})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "impact")
        self.assertUnchanged()

    def test_customers_cannot_edit_tickets(self):
        response = self.api(self.carol).patch(self.url, {"title": "Mine now"})
        self.assertEqual(response.status_code, 403)
        self.assertUnchanged()

    def test_only_changed_fields_are_on_the_timeline(self):
        self.api(self.alice).patch(self.url, {"title": "Exports fail", "description": ""})
        self.assertFalse(Event.objects.filter(target_id=self.ticket.pk, verb="updated").exists())
        self.api(self.alice).patch(self.url, {"title": "Exports fail on Mondays"})
        event = Event.objects.get(target_id=self.ticket.pk, verb="updated")
        self.assertEqual(event.before, {"title": "Exports fail"})
        self.assertEqual(event.after, {"title": "Exports fail on Mondays"})

    def test_editing_the_description_is_on_the_timeline(self):
        self.api(self.alice).patch(self.url, {"description": "Since the upgrade to 4.2."})
        event = Event.objects.get(target_id=self.ticket.pk, verb="updated")
        self.assertEqual(event.before, {"description": ""})
        self.assertEqual(event.after, {"description": "Since the upgrade to 4.2."})
        web = Client()
        web.force_login(self.alice)
        page = web.get(f"/desk/t/{self.ticket.key}")
        self.assertContains(page, "edited the ticket: description changed")

    def test_tags_are_replaced_and_the_change_recorded(self):
        desk.update_ticket(self.alice, self.ticket, tags=["a", "b"])
        response = self.api(self.alice).patch(self.url, {"tags": ["B", "c"]})
        self.assertEqual(response.json()["tags"], ["b", "c"])
        event = Event.objects.filter(target_id=self.ticket.pk, verb="tagged").last()
        self.assertEqual((event.before, event.after), ({"tags": ["a", "b"]}, {"tags": ["b", "c"]}))
