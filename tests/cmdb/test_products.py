"""Products the team maintains, with their components and semantic versions."""

from sustain.cmdb import actions as cmdb
from sustain.cmdb.models import Product, Version
from sustain.core.errors import Conflict, Forbidden, Invalid
from tests.base import SustainTestCase


class ProductTests(SustainTestCase):
    def test_an_admin_creates_a_product_with_a_slug(self):
        response = self.api(self.root).post(
            "/api/v1/products", {"name": "Payroll Cloud", "description": "SaaS payroll"}
        )
        self.assertEqual(response.status_code, 201)
        self.assertEqual(
            {k: response.json()[k] for k in ("name", "slug", "components", "versions")},
            {"name": "Payroll Cloud", "slug": "payroll-cloud", "components": [], "versions": []},
        )

    def test_a_duplicate_name_is_a_conflict(self):
        response = self.api(self.root).post("/api/v1/products", {"name": "Ledger"})
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["errors"][0]["field"], "name")
        self.assertEqual(Product.objects.count(), 1)

    def test_only_admins_create_products(self):
        for user in (self.alice, self.carol):
            with self.subTest(user=user.email):
                response = self.api(user).post("/api/v1/products", {"name": "Shadow IT"})
                self.assertEqual(response.status_code, 403)
        with self.assertRaises(Forbidden):
            cmdb.create_product(self.mia, name="Shadow IT")
        self.assertFalse(Product.objects.filter(name="Shadow IT").exists())

    def test_everyone_reads_the_catalogue_with_versions_and_components(self):
        cmdb.add_component(self.root, self.product, name="Invoicing")
        cmdb.add_version(self.root, self.product, name="2.5.0-rc.1")
        body = self.api(self.carol).get("/api/v1/products/ledger").json()
        self.assertEqual(body["components"], ["Invoicing"])
        self.assertEqual([v["name"] for v in body["versions"]], ["2.5.0-rc.1", "2.4.1"])

    def test_components_are_unique_per_product(self):
        cmdb.add_component(self.root, self.product, name="Invoicing")
        with self.assertRaises(Conflict):
            cmdb.add_component(self.root, self.product, name="Invoicing")
        response = self.api(self.root).post(
            "/api/v1/products/ledger/components", {"name": "Invoicing"}
        )
        self.assertEqual(response.status_code, 409)


class VersionTests(SustainTestCase):
    def add(self, name, user=None):
        return self.api(user or self.root).post("/api/v1/products/ledger/versions", {"name": name})

    def test_a_semantic_version_is_stored_with_its_parts(self):
        response = self.add("3.10.2-beta.1+build.7")
        self.assertEqual(response.status_code, 201)
        version = Version.objects.get(name="3.10.2-beta.1+build.7")
        self.assertEqual(
            (version.major, version.minor, version.patch, version.prerelease),
            (3, 10, 2, "beta.1"),
        )

    def test_versions_list_newest_first_by_number_not_by_text(self):
        for name in ("2.10.0", "2.9.3", "10.0.0"):
            self.add(name)
        names = [v.name for v in self.product.versions.all()]
        self.assertEqual(names, ["10.0.0", "2.10.0", "2.9.3", "2.4.1"])

    def test_a_version_that_is_not_semver_is_422_naming_name(self):
        for bad in (
            "2.4",
            "v2.4.1",
            "2.4.1.0",
            "02.4.1",
            "2.4.x",
            "2.4.1-",
            "1.0.0 beta",
            "latest",
        ):
            with self.subTest(version=bad):
                response = self.add(bad)
                self.assertEqual(response.status_code, 422)
                self.assertEqual(response.json()["errors"][0]["field"], "name")
        with self.assertRaises(Invalid) as refused:
            cmdb.add_version(self.root, self.product, name="1.2")
        self.assertIn("not a semantic version", refused.exception.message)
        self.assertEqual(self.product.versions.count(), 1)

    def test_the_same_version_twice_is_a_conflict(self):
        response = self.add("2.4.1")
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["errors"][0]["field"], "name")

    def test_only_admins_add_versions(self):
        self.assertEqual(self.add("9.9.9", self.alice).status_code, 403)
        self.assertEqual(self.add("9.9.9", self.carol).status_code, 403)

    def test_an_unknown_product_is_404(self):
        response = self.api(self.root).post("/api/v1/products/nope/versions", {"name": "1.0.0"})
        self.assertEqual(response.status_code, 404)
