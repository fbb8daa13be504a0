"""Configuration items: owned by one organization; an environment records which product and
version it runs (the install base)."""

from sustain.cmdb import actions as cmdb
from sustain.cmdb.models import ConfigItem
from sustain.core.errors import Conflict, Forbidden, Invalid
from sustain.core.models import Event
from tests.base import SustainTestCase

URL = "/api/v1/config-items"


class ConfigItemTests(SustainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.other_product = cmdb.create_product(cls.root, name="Payroll")
        cls.payroll_1 = cmdb.add_version(cls.root, cls.other_product, name="1.0.0")
        cls.ledger_25 = cmdb.add_version(cls.root, cls.product, name="2.5.0")

    def create(self, user=None, **body):
        payload = {"organization": "acme", "name": "acme-staging", "kind": "environment", **body}
        return self.api(user or self.alice).post(URL, payload)

    def test_an_environment_records_the_product_and_version_it_runs(self):
        response = self.create(product="ledger", version="2.5.0", attributes={"region": "eu"})
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(
            {k: body[k] for k in ("organization", "name", "kind", "product", "version", "status")},
            {
                "organization": "acme",
                "name": "acme-staging",
                "kind": "environment",
                "product": "ledger",
                "version": "2.5.0",
                "status": "active",
            },
        )
        self.assertEqual(body["attributes"], {"region": "eu"})
        item = ConfigItem.objects.get(pk=body["id"])
        self.assertEqual((item.organization, item.version), (self.acme, self.ledger_25))

    def test_a_version_of_another_product_is_refused(self):
        response = self.create(product="ledger", version="1.0.0")
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "version")
        with self.assertRaises(Invalid) as refused:
            cmdb.create_config_item(
                self.alice,
                organization=self.acme,
                name="x",
                kind="environment",
                product=self.product,
                version=self.payroll_1,
            )
        self.assertEqual(refused.exception.errors[0]["field"], "version")
        self.assertIn("not a version of Ledger", refused.exception.message)
        self.assertFalse(ConfigItem.objects.filter(name__in=["x", "acme-staging"]).exists())

    def test_a_version_needs_its_product(self):
        response = self.create(version="2.5.0")
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "version")

    def test_upgrading_an_environment_is_recorded(self):
        response = self.api(self.alice).patch(f"{URL}/{self.acme_prod.pk}", {"version": "2.5.0"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["version"], "2.5.0")
        event = Event.objects.get(
            target_type="cmdb.configitem", target_id=self.acme_prod.pk, verb="updated"
        )
        self.assertEqual(
            (event.before, event.after), ({"version": "Ledger 2.4.1"}, {"version": "Ledger 2.5.0"})
        )

    def test_changing_the_product_without_a_matching_version_is_refused(self):
        response = self.api(self.alice).patch(f"{URL}/{self.acme_prod.pk}", {"product": "payroll"})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "version")
        response = self.api(self.alice).patch(
            f"{URL}/{self.acme_prod.pk}", {"product": "payroll", "version": "1.0.0"}
        )
        self.assertEqual(response.status_code, 200)
        self.acme_prod.refresh_from_db()
        self.assertEqual(self.acme_prod.version, self.payroll_1)

    def test_names_are_unique_within_an_organization_only(self):
        self.assertEqual(self.create(name="acme-prod").status_code, 409)
        self.assertEqual(self.create(name="globex-prod").status_code, 201)
        with self.assertRaises(Conflict):
            cmdb.create_config_item(
                self.alice, organization=self.globex, name="globex-prod", kind="server"
            )

    def test_renaming_to_a_name_taken_in_the_organization_is_a_conflict(self):
        cmdb.create_config_item(self.alice, organization=self.acme, name="acme-db", kind="database")
        response = self.api(self.alice).patch(f"{URL}/{self.acme_prod.pk}", {"name": "acme-db"})
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["errors"][0]["field"], "name")
        self.acme_prod.refresh_from_db()
        self.assertEqual(self.acme_prod.name, "acme-prod")
        response = self.api(self.alice).patch(f"{URL}/{self.acme_prod.pk}", {"name": "globex-prod"})
        self.assertEqual(response.status_code, 200)

    def test_bad_kind_status_or_organization_names_the_field(self):
        for body, field in (
            ({"kind": "spaceship"}, "kind"),
            ({"status": "on fire"}, "status"),
            ({"organization": "nope"}, "organization"),
            ({"product": "nope"}, "product"),
            ({"name": ""}, "name"),
        ):
            with self.subTest(body=body):
                response = self.create(**body)
                self.assertEqual(response.status_code, 422)
                self.assertEqual(response.json()["errors"][0]["field"], field)

    def test_customers_cannot_create_items(self):
        self.assertEqual(self.create(self.carol).status_code, 403)
        with self.assertRaises(Forbidden):
            cmdb.create_config_item(self.carol, organization=self.acme, name="x", kind="server")

    def test_an_agent_serving_only_some_customers_cannot_add_items_for_others(self):
        from sustain.accounts import actions as accounts
        from sustain.accounts.models import Role

        gina = accounts.create_user(
            self.root,
            email="gina@northwind.test",
            name="Gina",
            organization=self.provider,
            role=Role.AGENT,
            serves_all_organizations=False,
            served_organizations=[self.globex],
        )
        response = self.create(gina)
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "organization")
        self.assertEqual(self.api(gina).get(f"{URL}/{self.acme_prod.pk}").status_code, 404)


class ConfigItemVisibilityTests(SustainTestCase):
    def names(self, user, **params):
        return [i["name"] for i in self.api(user).get(URL, **params).json()["results"]]

    def test_customers_see_only_their_organizations_items(self):
        self.assertEqual(self.names(self.carol), ["acme-prod"])
        self.assertEqual(self.names(self.dave), ["globex-prod"])
        self.assertEqual(self.names(self.carol, organization="globex"), [])
        self.assertEqual(self.api(self.carol).get(f"{URL}/{self.globex_prod.pk}").status_code, 404)

    def test_agents_see_all_and_filter(self):
        self.assertEqual(sorted(self.names(self.alice)), ["acme-prod", "globex-prod"])
        self.assertEqual(self.names(self.alice, organization="globex"), ["globex-prod"])
        self.assertEqual(self.names(self.alice, product="ledger"), ["acme-prod"])
        self.assertEqual(self.names(self.alice, kind="server"), [])
        self.assertEqual(self.names(self.alice, q="GLOBEX"), ["globex-prod"])

    def test_customers_cannot_change_items(self):
        response = self.api(self.carol).patch(f"{URL}/{self.acme_prod.pk}", {"status": "retired"})
        self.assertEqual(response.status_code, 403)
        self.acme_prod.refresh_from_db()
        self.assertEqual(self.acme_prod.status, ConfigItem.Status.ACTIVE)
