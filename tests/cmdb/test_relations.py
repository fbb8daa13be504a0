"""Relations between configuration items: depends on, runs on, part of."""

from sustain.cmdb import actions as cmdb
from sustain.cmdb.models import ConfigItem, Relation
from sustain.core.errors import Conflict, Forbidden, Invalid
from tests.base import SustainTestCase


class RelationTests(SustainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.db = cmdb.create_config_item(
            cls.root, organization=cls.acme, name="acme-db", kind=ConfigItem.Kind.DATABASE
        )
        cls.url = f"/api/v1/config-items/{cls.acme_prod.pk}/relations"

    def relate(self, target, kind="depends_on", user=None):
        return self.api(user or self.alice).post(self.url, {"target": target, "kind": kind})

    def test_an_environment_depends_on_its_database(self):
        response = self.relate(self.db.pk)
        self.assertEqual(response.status_code, 201)
        self.assertEqual(
            {k: response.json()[k] for k in ("source", "target", "kind")},
            {"source": self.acme_prod.pk, "target": self.db.pk, "kind": "depends_on"},
        )
        for item in (self.acme_prod, self.db):
            listed = self.api(self.carol).get(f"/api/v1/config-items/{item.pk}/relations").json()
            self.assertEqual(
                [(r["source"], r["target"]) for r in listed], [(self.acme_prod.pk, self.db.pk)]
            )

    def test_an_item_cannot_relate_to_itself(self):
        response = self.relate(self.acme_prod.pk)
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "target")
        with self.assertRaises(Invalid):
            cmdb.relate(self.alice, self.db, self.db, "runs_on")
        self.assertFalse(Relation.objects.exists())

    def test_the_same_relation_twice_is_409(self):
        self.relate(self.db.pk)
        response = self.relate(self.db.pk)
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["errors"][0]["field"], "target")
        with self.assertRaises(Conflict):
            cmdb.relate(self.alice, self.acme_prod, self.db, "depends_on")
        self.assertEqual(Relation.objects.count(), 1)

    def test_another_kind_between_the_same_items_is_a_new_relation(self):
        self.relate(self.db.pk)
        self.assertEqual(self.relate(self.db.pk, kind="runs_on").status_code, 201)
        self.assertEqual(Relation.objects.count(), 2)

    def test_an_unknown_kind_or_target_names_the_field(self):
        response = self.relate(self.db.pk, kind="loves")
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "kind")
        response = self.relate(999999)
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "target")

    def test_customers_cannot_relate_items(self):
        self.assertEqual(self.relate(self.db.pk, user=self.carol).status_code, 403)
        with self.assertRaises(Forbidden):
            cmdb.relate(self.carol, self.acme_prod, self.db, "depends_on")
        self.assertFalse(Relation.objects.exists())

    def test_a_customer_cannot_reach_another_organizations_item(self):
        response = self.api(self.dave).get(self.url)
        self.assertEqual(response.status_code, 404)
