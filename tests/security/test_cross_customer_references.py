"""References between two customers' objects, which the matrix cannot stumble on by itself:
agents who serve everyone could make them, and each side would then show the other's keys."""

from sustain.accounts import actions as accounts
from sustain.accounts.models import Role
from sustain.cmdb import actions as cmdb
from sustain.cmdb.models import ConfigItem
from sustain.core.errors import Invalid
from sustain.core.models import Event
from sustain.desk import actions as desk
from sustain.desk.models import TicketLink
from sustain.sla import actions as sla
from tests.base import SustainTestCase


class CrossCustomerTicketTests(SustainTestCase):
    def setUp(self):
        self.acme_ticket = self.open_ticket(self.carol, title="Acme checkout down")
        self.globex_ticket = self.open_ticket(self.dave, title="Globex checkout down")

    def test_an_agent_cannot_link_two_customers_tickets(self):
        response = self.api(self.alice).post(
            f"/api/v1/tickets/{self.acme_ticket.key}/links", {"target": self.globex_ticket.key}
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "target")
        self.assertFalse(TicketLink.objects.exists())
        self.assertFalse(Event.objects.filter(verb="linked").exists())

    def test_a_major_incident_is_the_customers_own_or_the_providers(self):
        major = desk.open_ticket(
            self.root, title="Payment provider outage", organization=self.provider
        )
        own = self.open_ticket(self.cathy, title="Acme-wide outage")

        with self.assertRaises(Invalid) as refused:
            desk.set_parent(self.alice, self.acme_ticket, self.globex_ticket)
        self.assertEqual(refused.exception.errors[0]["field"], "parent")
        response = self.api(self.alice).post(
            "/api/v1/tickets",
            {"title": "Also down", "organization": "acme", "parent": self.globex_ticket.key},
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "parent")

        desk.set_parent(self.alice, self.acme_ticket, major)
        desk.set_parent(self.alice, self.globex_ticket, major)
        desk.set_parent(self.alice, self.acme_ticket, own)
        self.acme_ticket.refresh_from_db()
        self.assertEqual(self.acme_ticket.parent, own)


class SharedConfigurationItemTests(SustainTestCase):
    def test_relations_show_only_the_items_the_reader_may_see(self):
        shared = cmdb.create_config_item(
            self.root, organization=self.provider, name="shared-db", kind=ConfigItem.Kind.DATABASE
        )
        cmdb.relate(self.root, self.acme_prod, shared, "runs_on")
        cmdb.relate(self.root, self.globex_prod, shared, "runs_on")
        acme_only = accounts.create_user(
            self.root,
            email="sam@northwind.test",
            name="Sam Restricted",
            organization=self.provider,
            role=Role.AGENT,
            serves_all_organizations=False,
            served_organizations=[self.acme],
        )

        def sources(user, item):
            response = self.api(user).get(f"/api/v1/config-items/{item.pk}/relations")
            self.assertEqual(response.status_code, 200)
            return sorted(r["source"] for r in response.json())

        self.assertEqual(
            sources(self.root, shared), sorted([self.acme_prod.pk, self.globex_prod.pk])
        )
        self.assertEqual(sources(acme_only, shared), [self.acme_prod.pk])
        self.assertEqual(sources(acme_only, self.acme_prod), [self.acme_prod.pk])
        # A customer does not see the provider's item behind its own.
        response = self.api(self.carol).get(f"/api/v1/config-items/{self.acme_prod.pk}/relations")
        self.assertEqual(response.json(), [])


class CustomerCalendarTests(SustainTestCase):
    def test_an_agent_sees_shared_calendars_and_those_of_the_customers_served(self):
        shared = sla.create_calendar(self.root, name="Office hours", always=True)
        acme = sla.create_calendar(
            self.root, name="Acme hours", always=True, organization=self.acme
        )
        sla.create_calendar(self.root, name="Globex hours", always=True, organization=self.globex)
        acme_only = accounts.create_user(
            self.root,
            email="sam@northwind.test",
            name="Sam Restricted",
            organization=self.provider,
            role=Role.AGENT,
            serves_all_organizations=False,
            served_organizations=[self.acme],
        )

        def names(user):
            response = self.api(user).get("/api/v1/sla/calendars")
            self.assertEqual(response.status_code, 200)
            return sorted(c["name"] for c in response.json()["results"])

        self.assertEqual(names(acme_only), sorted([shared.name, acme.name]))
        self.assertEqual(names(self.alice), ["Acme hours", "Globex hours", "Office hours"])
        self.assertEqual(names(self.carol), [])
