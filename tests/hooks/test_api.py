"""/api/v1/webhooks: agents manage subscriptions of the customers they serve; customers none."""

from __future__ import annotations

from django.utils import timezone

from sustain.accounts import actions as accounts
from sustain.accounts.models import Role
from sustain.core import outbox
from sustain.hooks import actions as hooks
from sustain.hooks.models import Delivery, Subscription
from tests.base import SustainTestCase
from tests.hooks.receiver import Receiver, verify

VALID = {"name": "Chat", "url": "https://chat.example.test/hooks/sustain"}


class WebhookApiTests(SustainTestCase):
    def setUp(self):
        self.as_alice = self.api(self.alice)

    def create(self, **fields):
        return self.as_alice.post("/api/v1/webhooks", {**VALID, **fields})

    def assertRefused(self, response, field: str, status: int = 422):
        self.assertEqual(response.status_code, status, response.content)
        self.assertIn(field, [e["field"] for e in response.json()["errors"]], response.json())

    def test_create_answers_the_secret_once_and_never_again(self):
        response = self.create(events=["ticket.created", "comment.created"], organization="acme")
        self.assertEqual(response.status_code, 201, response.content)
        created = response.json()
        self.assertGreaterEqual(len(created["secret"]), 32)
        self.assertEqual(created["events"], ["ticket.created", "comment.created"])
        self.assertEqual((created["organization"], created["owner"]), ("acme", self.alice.email))
        shown = self.as_alice.get(f"/api/v1/webhooks/{created['id']}").json()
        self.assertNotIn("secret", shown)
        listed = self.as_alice.get("/api/v1/webhooks").json()["results"]
        self.assertEqual([s["id"] for s in listed], [created["id"]])
        self.assertNotIn(created["secret"], str(listed))

    def test_a_chosen_secret_is_kept(self):
        response = self.create(secret="my-own-secret-of-32-characters!!")
        self.assertEqual(response.json()["secret"], "my-own-secret-of-32-characters!!")

    def test_bad_urls_are_refused_naming_the_field(self):
        for url in (
            "ftp://files.example.test/x",
            "https://user:password@example.test/hook",
            "https://token@example.test/hook",
            "not a url",
            "https:///no-host",
            "javascript:alert(1)",
            "http://example.test:99999/",
            "",
        ):
            with self.subTest(url=url):
                self.assertRefused(self.create(url=url), "url")
        self.assertEqual(Subscription.objects.count(), 0)
        self.assertRefused(self.create(url="http://10.0.0.5:8080/hook"), "url")
        with self.settings(OUTBOUND_ALLOW_NETWORKS=("10.0.0.0/8",)):  # allowed on purpose
            self.assertEqual(self.create(url="http://10.0.0.5:8080/hook").status_code, 201)

    def test_other_bad_fields_are_refused_naming_them(self):
        self.assertRefused(self.create(events=["ticket.exploded"]), "events")
        self.assertRefused(self.create(secret="short"), "secret")
        self.assertRefused(self.create(name=""), "name")
        self.assertRefused(self.create(organization="nope"), "organization")
        created = self.create().json()
        patch = self.as_alice.patch(f"/api/v1/webhooks/{created['id']}", {"name": None})
        self.assertRefused(patch, "name")
        patch = self.as_alice.patch(f"/api/v1/webhooks/{created['id']}", {"url": "gopher://x"})
        self.assertRefused(patch, "url")

    def test_update_and_delete(self):
        created = self.create().json()
        path = f"/api/v1/webhooks/{created['id']}"
        patched = self.as_alice.patch(
            path, {"name": "Chat ops", "events": ["sla.breached"], "organization": "globex"}
        )
        self.assertEqual(patched.status_code, 200, patched.content)
        self.assertEqual(
            (patched.json()["name"], patched.json()["events"], patched.json()["organization"]),
            ("Chat ops", ["sla.breached"], "globex"),
        )
        everyone = self.as_alice.patch(path, {"organization": None}).json()
        self.assertIsNone(everyone["organization"])
        self.assertEqual(self.as_alice.delete(path).status_code, 204)
        self.assertEqual(self.as_alice.get(path).status_code, 404)

    def test_a_new_secret_is_answered_once(self):
        created = self.create().json()
        response = self.as_alice.post(f"/api/v1/webhooks/{created['id']}/secret")
        self.assertEqual(response.status_code, 200)
        secret = response.json()["secret"]
        self.assertNotEqual(secret, created["secret"])
        self.assertEqual(Subscription.objects.get().secret, secret)

    def test_customers_neither_see_nor_manage_webhooks(self):
        created = self.create(organization="acme").json()
        as_carol = self.api(self.carol)
        self.assertEqual(as_carol.post("/api/v1/webhooks", VALID).status_code, 403)
        self.assertEqual(as_carol.get("/api/v1/webhooks").json()["results"], [])
        path = f"/api/v1/webhooks/{created['id']}"
        self.assertEqual(as_carol.get(path).status_code, 404)
        self.assertEqual(as_carol.patch(path, {"name": "Mine"}).status_code, 404)
        self.assertEqual(as_carol.get(f"{path}/deliveries").status_code, 404)
        self.assertEqual(Subscription.objects.get().name, "Chat")

    def test_an_agent_serving_some_customers_manages_only_theirs(self):
        sam = accounts.create_user(
            self.root,
            email="sam@northwind.test",
            name="Sam",
            organization=self.provider,
            role=Role.AGENT,
            serves_all_organizations=False,
            served_organizations=[self.acme],
        )
        as_sam = self.api(sam)
        everyone = self.create().json()
        globex = self.create(organization="globex").json()
        # Every customer's events would include the ones Sam does not serve.
        self.assertRefused(as_sam.post("/api/v1/webhooks", VALID), "organization")
        self.assertRefused(
            as_sam.post("/api/v1/webhooks", {**VALID, "organization": "globex"}), "organization"
        )
        own = as_sam.post("/api/v1/webhooks", {**VALID, "organization": "acme"})
        self.assertEqual(own.status_code, 201)
        listed = [s["id"] for s in as_sam.get("/api/v1/webhooks").json()["results"]]
        self.assertEqual(listed, [own.json()["id"]])
        for other in (everyone, globex):
            self.assertEqual(as_sam.get(f"/api/v1/webhooks/{other['id']}").status_code, 404)
        moved = as_sam.patch(f"/api/v1/webhooks/{own.json()['id']}", {"organization": "globex"})
        self.assertRefused(moved, "organization")

    def test_ping_and_the_delivery_log(self):
        with Receiver() as receiver, self.settings(OUTBOUND_ALLOW_NETWORKS=("127.0.0.1/32",)):
            created = self.create(url=receiver.url).json()
            path = f"/api/v1/webhooks/{created['id']}"
            pinged = self.as_alice.post(f"{path}/ping")
            self.assertEqual(pinged.status_code, 202, pinged.content)
            outbox.deliver_due(timezone.now())
        [request] = receiver.received
        self.assertEqual(request.headers["X-Sustain-Event"], "ping")
        self.assertEqual(request.delivery, pinged.json()["delivery"])
        self.assertTrue(verify(created["secret"], request.headers, request.body))

        log = self.as_alice.get(f"{path}/deliveries").json()
        [entry] = log["results"]
        self.assertEqual(
            (entry["event"], entry["status_code"], entry["ok"], entry["delivery_id"]),
            ("ping", 200, True, pinged.json()["delivery"]),
        )
        detail = self.as_alice.get(f"{path}/deliveries/{entry['id']}").json()
        self.assertEqual(detail["payload"]["type"], "ping")
        self.assertEqual(detail["payload"]["actor"]["email"], self.alice.email)
        self.assertEqual(detail["response_excerpt"], "")  # kept only from a failed answer
        self.assertEqual(self.as_alice.get(f"{path}/deliveries", failed=True).json()["results"], [])

    def test_a_disabled_subscription_cannot_be_pinged_until_enabled(self):
        created = self.create(active=False).json()
        path = f"/api/v1/webhooks/{created['id']}"
        self.assertRefused(self.as_alice.post(f"{path}/ping"), "active", status=409)
        self.as_alice.patch(path, {"active": True})
        self.assertEqual(self.as_alice.post(f"{path}/ping").status_code, 202)

    def test_the_log_of_another_subscription_is_not_reachable_through_this_one(self):
        first = self.create().json()
        second, _ = hooks.create_subscription(self.alice, name="B", url="https://b.example.test")
        other = Delivery.objects.create(
            subscription=second, delivery_id="00000000-0000-0000-0000-000000000001", event="ping"
        )
        response = self.as_alice.get(f"/api/v1/webhooks/{first['id']}/deliveries/{other.pk}")
        self.assertEqual(response.status_code, 404)

    def test_the_payload_schema_and_event_types_are_in_the_api_docs(self):
        schema = self.as_alice.get("/api/openapi.json").json()
        components = schema["components"]["schemas"]
        self.assertIn("WebhookEvent", components)
        self.assertIn("TicketData", components)
        events = components["SubscriptionIn"]["properties"]["events"]["items"]["enum"]
        self.assertIn("sla.breached", events)
        # The headers and how to check the signature are told with the schema.
        description = components["WebhookEvent"]["description"]
        for header in ("X-Sustain-Delivery", "X-Sustain-Timestamp", "X-Sustain-Signature"):
            self.assertIn(header, description)
