"""What a customer may choose about a new ticket: not its channel, and not who else watches it
(the watcher endpoint already forbade adding others), whichever door they use."""

from django.test import Client

from sustain.core.errors import Forbidden, Invalid
from sustain.desk import actions as desk
from sustain.desk.models import Channel, Ticket
from tests.base import SustainTestCase


class CustomerApiTests(SustainTestCase):
    def post(self, user, **fields):
        return self.api(user).post("/api/v1/tickets", {"title": "Printer"} | fields)

    def test_a_customer_cannot_choose_the_channel(self) -> None:
        response = self.post(self.carol, channel="phone")
        self.assertEqual(response.status_code, 403, response.content)
        self.assertEqual([e["field"] for e in response.json()["errors"]], ["channel"])
        self.assertFalse(Ticket.objects.exists())

    def test_a_customer_cannot_add_watchers(self) -> None:
        response = self.post(self.carol, watchers=["cathy@acme.test"])
        self.assertEqual(response.status_code, 403, response.content)
        self.assertEqual([e["field"] for e in response.json()["errors"]], ["watchers"])
        self.assertFalse(Ticket.objects.exists())

    def test_a_customers_ticket_is_labelled_by_its_door(self) -> None:
        response = self.post(self.carol)
        self.assertEqual(response.status_code, 201, response.content)
        ticket = Ticket.objects.get()
        self.assertEqual(ticket.channel, Channel.API)
        self.assertEqual(list(ticket.watchers.all()), [])

    def test_an_agent_still_sets_both(self) -> None:
        response = self.post(
            self.alice, organization="acme", channel="phone", watchers=["cathy@acme.test"]
        )
        self.assertEqual(response.status_code, 201, response.content)
        ticket = Ticket.objects.get()
        self.assertEqual(ticket.channel, Channel.PHONE)
        self.assertEqual([u.email for u in ticket.watchers.all()], ["cathy@acme.test"])


class CustomerPortalTests(SustainTestCase):
    def test_the_portal_form_ignores_a_channel_and_watchers_smuggled_in(self) -> None:
        client = Client()
        client.force_login(self.carol)
        response = client.post(
            "/portal/new",
            {
                "kind": "incident",
                "title": "Printer",
                "impact": 2,
                "urgency": 2,
                "channel": "phone",
                "watchers": str(self.cathy.pk),
            },
        )
        self.assertEqual(response.status_code, 302, response.content)
        ticket = Ticket.objects.get()
        self.assertEqual(ticket.channel, Channel.WEB)
        self.assertEqual(list(ticket.watchers.all()), [])


class ActionTests(SustainTestCase):
    def test_the_rule_lives_in_the_action(self) -> None:
        for name in ("channel", "watchers"):
            with self.subTest(name=name), self.assertRaises(Forbidden) as caught:
                desk.open_ticket(self.carol, title="Printer", chosen={name})
            self.assertEqual(caught.exception.errors[0]["field"], name)
        # a door's own watchers for a customer (mail's addressed colleagues) stay in the
        # organization's customers
        with self.assertRaises(Invalid) as caught:
            desk.open_ticket(self.carol, title="Printer", watchers=[self.alice])
        self.assertEqual(caught.exception.errors[0]["field"], "watchers")
        with self.assertRaises(Invalid):
            desk.open_ticket(self.carol, title="Printer", watchers=[self.dave])
        ticket = desk.open_ticket(self.carol, title="Printer", watchers=[self.cathy])
        self.assertEqual(list(ticket.watchers.all()), [self.cathy])
