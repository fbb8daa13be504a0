"""Configuration documents under version control (versions, diffs, rollback, masked secrets)
and drift: an observed copy or installed version that differs from what was approved."""

from __future__ import annotations

from django.test import Client

from sustain.cmdb import configs, diffs
from sustain.cmdb.models import ConfigDocument, ConfigVersion, Drift
from sustain.core.errors import Conflict, Forbidden, Invalid, NotFound
from sustain.core.models import Event
from sustain.monitoring import actions as monitoring
from tests.base import SustainTestCase

NGINX = "server {\n  listen 80;\n  server_name acme.test;\n}\n"
APP = "db:\n  host: db1\n  password: hunter2\nurl: postgres://app:s3cret@db1/app\nlast_updated: 1\n"


class DocumentTests(SustainTestCase):
    def make(self, name="nginx.conf", text=NGINX, **kw) -> ConfigDocument:
        return configs.create_document(self.alice, self.acme_prod, name=name, text=text, **kw)

    def test_every_save_is_a_version_and_a_rollback_is_a_new_one(self):
        doc = self.make(message="as installed")
        configs.save_version(self.alice, doc, text=NGINX.replace("80", "8080"), message="port")
        with self.assertRaises(Conflict):
            configs.save_version(self.alice, doc, text=NGINX.replace("80", "8080"))
        back = configs.rollback(self.bob, doc, number=1)
        self.assertEqual((back.number, back.restored_from, back.text), (3, 1, NGINX))
        self.assertEqual(
            list(doc.versions.order_by("number").values_list("number", "author__email", "message")),
            [
                (1, "alice@northwind.test", "as installed"),
                (2, "alice@northwind.test", "port"),
                (3, "bob@northwind.test", "Back to version 1."),
            ],
        )
        verbs = Event.objects.filter(target_id=self.acme_prod.pk, verb__startswith="config_")
        self.assertEqual(
            list(verbs.values_list("verb", flat=True)),
            ["config_saved", "config_saved", "config_restored"],
        )
        with self.assertRaises(NotFound):
            configs.rollback(self.alice, doc, number=9)
        self.assertEqual(doc.format, "text")
        self.assertEqual(self.make(name="app/settings.yaml", text="a: 1\n").format, "yaml")

    def test_bad_input_is_refused_naming_the_field_and_customers_cannot_write(self):
        for kwargs, field in [
            ({"name": "../etc/passwd"}, "name"),
            ({"name": ""}, "name"),
            ({"text": "a\x00b"}, "text"),
            ({"format": "xml"}, "format"),
            ({"ignore_rules": [{"kind": "key", "pattern": "("}]}, "ignore_rules.0.pattern"),
            ({"ignore_rules": [{"kind": "word", "pattern": "x"}]}, "ignore_rules.0.kind"),
        ]:
            with self.subTest(kwargs), self.assertRaises(Invalid) as caught:
                self.make(**{"name": "x.conf", **kwargs})
            self.assertEqual(caught.exception.errors[0]["field"], field)
        with self.assertRaises(Forbidden):
            configs.create_document(self.carol, self.acme_prod, name="a.conf", text="x")
        self.assertFalse(ConfigDocument.objects.exists())

    def test_secrets_are_masked_for_all_but_admins(self):
        masked = diffs.mask(APP)
        self.assertNotIn("hunter2", masked)
        self.assertNotIn("s3cret", masked)
        self.assertIn("host: db1", masked)
        self.assertIn("password: ••••••", masked)
        self.assertIn("postgres://app:••••••@db1/app", masked)
        self.assertEqual(
            diffs.mask('{"api_key": "abc", "name": "x"}\n[s]\ntoken = "t0k"\n'),
            '{"api_key": "abc", "name": "x"}\n[s]\ntoken = "••••••"\n',
        )
        self.assertEqual(diffs.mask('  "api_key": "abc",'), '  "api_key": "••••••",')
        self.assertEqual(
            diffs.mask("A=1\nDB_PASSWORD=abc\nApi_Key: x"),
            "A=1\nDB_PASSWORD=••••••\nApi_Key: ••••••",
        )
        with self.settings(CONFIG_SECRET_KEYS="Licen[cs]e"):  # capitals: searched ignoring case
            self.assertEqual(
                diffs.mask("license_key = k1\nname = n"), "license_key = ••••••\nname = n"
            )
        doc = self.make(name="app.yaml", text=APP)
        agent = self.api(self.alice).get(f"/api/v1/config-documents/{doc.pk}").json()
        self.assertNotIn("hunter2", agent["text"])
        admin = self.api(self.root).get(f"/api/v1/config-documents/{doc.pk}").json()
        self.assertIn("hunter2", admin["text"])
        configs.save_version(self.root, doc, text=APP.replace("hunter2", "hunter3"))
        diff = self.api(self.alice).get(f"/api/v1/config-documents/{doc.pk}/diff").json()
        self.assertNotIn("hunter", diff["unified"])
        page = self.client_for(self.alice).get(f"/cmdb/configs/{doc.pk}/diff?old=1&new=2")
        self.assertEqual(page.status_code, 200)
        self.assertNotContains(page, "hunter")

    def client_for(self, user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def test_the_api_keeps_diffs_and_rolls_back(self):
        api = self.api(self.alice)
        made = api.post(
            f"/api/v1/config-items/{self.acme_prod.pk}/documents",
            {"name": "nginx.conf", "text": NGINX, "message": "first"},
        )
        self.assertEqual(made.status_code, 201, made.content)
        doc = made.json()["id"]
        self.assertEqual(made.json()["version"], 1)
        two = api.post(
            f"/api/v1/config-documents/{doc}/versions",
            {"text": NGINX.replace("80", "443 ssl"), "message": "tls"},
        )
        self.assertEqual(two.status_code, 201, two.content)
        diff = api.get(f"/api/v1/config-documents/{doc}/diff", old=1, new="2").json()
        self.assertEqual((diff["removed"], diff["added"]), (1, 1))
        self.assertIn("-  listen 80;", diff["unified"])
        self.assertIn("+  listen 443 ssl;", diff["unified"])
        self.assertIn(
            {
                "tag": "replace",
                "left_no": 2,
                "left": "  listen 80;",
                "right_no": 2,
                "right": "  listen 443 ssl;",
            },
            diff["rows"],
        )
        back = api.post(f"/api/v1/config-documents/{doc}/rollback", {"number": 1})
        self.assertEqual((back.status_code, back.json()["restored_from"]), (201, 1))
        self.assertEqual(
            api.get(f"/api/v1/config-documents/{doc}/versions/3").json()["text"], NGINX
        )
        listed = api.get(f"/api/v1/config-documents/{doc}/versions").json()
        self.assertEqual([v["number"] for v in listed], [3, 2, 1])
        refused = api.post(f"/api/v1/config-documents/{doc}/versions", {"text": "x", "colour": 1})
        self.assertEqual(refused.status_code, 422)
        self.assertIn("colour", refused.content.decode())
        missing = api.get(f"/api/v1/config-documents/{doc}/diff", old=9)
        self.assertEqual(missing.status_code, 404)

    def test_no_cross_tenant_read(self):
        doc = configs.create_document(self.root, self.globex_prod, name="g.conf", text="x=1")
        for user in (self.carol, self.dave):
            api = self.api(user)
            self.assertEqual(api.get(f"/api/v1/config-documents/{doc.pk}").status_code, 404)
            self.assertEqual(
                api.get(f"/api/v1/config-items/{self.globex_prod.pk}/documents").status_code,
                404 if user is self.carol else 200,
            )
            if user is self.dave:  # his own item: customers see no configuration documents
                self.assertEqual(
                    api.get(f"/api/v1/config-items/{self.globex_prod.pk}/documents").json(), []
                )


class DriftTests(SustainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.token_raw = monitoring.create_machine_token(cls.root, cls.acme, name="agent")[1]

    def agent(self) -> Client:
        return Client(headers={"Authorization": f"Bearer {self.token_raw}"})

    def observe(self, body, item=None, client=None):
        return (client or self.agent()).post(
            f"/api/v1/config-items/{(item or self.acme_prod).pk}/observed-config",
            body,
            content_type="application/json",
        )

    def test_an_observed_copy_that_differs_opens_drift_and_clears_when_it_matches(self):
        doc = configs.create_document(
            self.alice,
            self.acme_prod,
            name="app.yaml",
            text=APP,
            ignore_rules=[{"kind": "key", "pattern": "last_updated"}],
        )
        same = self.observe(
            {"name": "app.yaml", "text": APP.replace("last_updated: 1", "last_updated: 7") + "\n\n"}
        )
        self.assertEqual((same.status_code, same.json()), (200, {"drift": None}), same.content)
        drifted = self.observe({"name": "app.yaml", "text": APP.replace("db1", "db2")})
        self.assertEqual(drifted.status_code, 200, drifted.content)
        drift = drifted.json()["drift"]
        self.assertEqual((drift["kind"], drift["document"]), ("config", "app.yaml"))
        self.assertIn("differs from version 1", drift["detail"])
        again = self.observe({"name": "app.yaml", "text": APP.replace("db1", "db2")}).json()[
            "drift"
        ]
        self.assertEqual((again["id"], again["since"]), (drift["id"], drift["since"]))
        compared = (
            self.api(self.alice)
            .get(f"/api/v1/config-documents/{doc.pk}/diff", new="observed")
            .json()
        )
        self.assertIn("+  host: db2", compared["unified"])
        self.assertNotIn("s3cret", compared["unified"])
        # approving what is observed (a new version) clears the drift
        configs.save_version(self.root, doc, text=APP.replace("db1", "db2"), message="moved")
        self.assertIsNotNone(Drift.objects.get(pk=drift["id"]).cleared_at)
        self.assertEqual(
            self.api(self.alice).get(f"/api/v1/config-items/{self.acme_prod.pk}/drifts").json(), []
        )
        verbs = Event.objects.filter(target_id=self.acme_prod.pk, verb__startswith="drift_")
        self.assertEqual(
            list(verbs.values_list("verb", flat=True)), ["drift_detected", "drift_cleared"]
        )

    def test_drift_can_open_a_ticket(self):
        configs.create_document(
            self.alice, self.acme_prod, name="nginx.conf", text=NGINX, open_ticket_on_drift=True
        )
        drift = self.observe({"name": "nginx.conf", "text": "server {}\n"}).json()["drift"]
        self.assertTrue(drift["ticket"])
        ticket = Drift.objects.get(pk=drift["id"]).ticket
        self.assertEqual((ticket.organization, ticket.affected_ci), (self.acme, self.acme_prod))
        self.assertIn("Configuration drift on", ticket.title)

    def test_unknown_documents_are_refused_unless_adopted_and_tokens_stay_in_their_org(self):
        refused = self.observe({"name": "new.conf", "text": "a"})
        self.assertEqual(refused.status_code, 404)
        self.assertIn("adopt", refused.json()["detail"])
        adopted = self.observe({"name": "new.conf", "text": "a", "adopt": True})
        self.assertEqual((adopted.status_code, adopted.json()["drift"]), (200, None))
        version = ConfigVersion.objects.get(document__name="new.conf")
        self.assertEqual((version.number, version.text), (1, "a"))
        foreign = self.observe(
            {"name": "x.conf", "text": "a", "adopt": True}, item=self.globex_prod
        )
        self.assertEqual(foreign.status_code, 404)
        self.assertFalse(ConfigDocument.objects.filter(item=self.globex_prod).exists())
        both = self.observe({"name": "a", "text": "b", "version": "1.0.0"})
        self.assertEqual(both.status_code, 422)
        unknown = self.observe({"name": "new.conf", "text": "a", "colour": "red"})
        self.assertEqual(unknown.status_code, 422)
        customer = self.observe({"name": "new.conf", "text": "b"}, client=self._logged(self.carol))
        self.assertEqual(customer.status_code, 403)

    def _logged(self, user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def test_an_installed_version_no_deployment_explains_is_drift(self):
        ok = self.observe({"version": "2.4.1"})
        self.assertEqual(ok.json(), {"drift": None})
        drift = self.observe({"version": "2.4.2"}).json()["drift"]
        self.assertEqual(drift["kind"], "version")
        self.assertIn("2.4.2 is installed; the CMDB records 2.4.1", drift["detail"])
        self.assertEqual(self.observe({"version": "2.4.1"}).json(), {"drift": None})
        self.assertIsNotNone(Drift.objects.get(pk=drift["id"]).cleared_at)
        bad = self.observe({"version": "latest"})
        self.assertEqual(bad.status_code, 422, bad.content)
        self.assertEqual(bad.json()["errors"][0]["field"], "version")

    def test_pages_show_documents_drift_and_diffs(self):
        doc = configs.create_document(self.alice, self.acme_prod, name="nginx.conf", text=NGINX)
        self.observe({"name": "nginx.conf", "text": NGINX.replace("80", "81")})
        client = self._logged(self.alice)
        listing = client.get("/cmdb/configs?drift=1")
        self.assertContains(listing, "nginx.conf")
        self.assertContains(listing, "drifting")
        page = client.get(f"/cmdb/configs/{doc.pk}")
        self.assertContains(page, "Drift")
        diff = client.get(f"/cmdb/configs/{doc.pk}/diff?new=observed")
        self.assertContains(diff, "listen 81;")
        made = client.post(
            f"/cmdb/items/{self.acme_prod.pk}/configs",
            {"name": "bad/../x", "text": "a", "message": ""},
        )
        self.assertEqual(made.status_code, 422)
        self.assertContains(made, "document name", status_code=422)
        rolled = client.post(f"/cmdb/configs/{doc.pk}/rollback", {"number": "1"})
        self.assertEqual(rolled.status_code, 302)
        self.assertEqual(doc.versions.count(), 1)  # nothing to roll back to: refused, said
        self.assertEqual(self._logged(self.carol).get(f"/cmdb/configs/{doc.pk}").status_code, 403)


class ImpactTests(SustainTestCase):
    def test_impact_walks_down_and_up_naming_only_what_the_caller_sees(self):
        from sustain.cmdb import actions as cmdb

        db = cmdb.create_config_item(
            self.root, organization=self.provider, name="shared-db", kind="database"
        )
        app = cmdb.create_config_item(
            self.root, organization=self.acme, name="acme-app", kind="service"
        )
        other = cmdb.create_config_item(
            self.root, organization=self.globex, name="globex-app", kind="service"
        )
        cmdb.relate(self.root, app, db, "depends_on")
        cmdb.relate(self.root, other, db, "depends_on")
        cmdb.relate(self.root, self.acme_prod, app, "depends_on")
        cmdb.relate(self.root, db, self.acme_prod, "depends_on")  # a cycle: the walk ends
        self.open_ticket(self.carol, title="app down", affected_ci=app)
        body = self.api(self.alice).get(f"/api/v1/config-items/{db.pk}/impact", depth=3).json()
        self.assertEqual(
            [(i["name"], i["distance"]) for i in body["items"]],
            [("acme-app", 1), ("globex-app", 1), ("acme-prod", 2)]
            if self.acme_prod.name == "acme-prod"
            else [("acme-app", 1), ("globex-app", 1), (self.acme_prod.name, 2)],
        )
        self.assertEqual(body["items"][0]["open_incidents"], 1)
        shallow = self.api(self.alice).get(f"/api/v1/config-items/{db.pk}/impact", depth=1).json()
        self.assertEqual(len(shallow["items"]), 2)
        up = (
            self.api(self.alice).get(f"/api/v1/config-items/{app.pk}/impact", direction="up").json()
        )
        self.assertEqual([i["name"] for i in up["items"]][:1], ["shared-db"])
        # a customer asks about its own item: the shared database is the provider's, so the
        # walk goes through it but names only Acme's items
        carol = (
            self.api(self.carol)
            .get(f"/api/v1/config-items/{self.acme_prod.pk}/impact", direction="up")
            .json()
        )
        self.assertNotIn("globex-app", str(carol))
        bad = self.api(self.alice).get(f"/api/v1/config-items/{db.pk}/impact", depth=50)
        self.assertEqual(bad.status_code, 422)
