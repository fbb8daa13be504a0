"""The webhook pages: agents list, create (the secret shown once), edit, ping, renew the secret
and delete subscriptions, and read the delivery log; customers are kept out."""

from __future__ import annotations

import uuid

from django.test import Client

from sustain.core.models import OutboxMessage
from sustain.hooks import actions as hooks
from sustain.hooks.models import Delivery, Subscription
from tests.base import SustainTestCase


class WebhookPageTests(SustainTestCase):
    def setUp(self):
        self.web = Client()
        self.web.force_login(self.alice)

    def form(self, **changes) -> dict:
        return {
            "name": "Chat",
            "url": "https://chat.example.test/hook",
            "events": ["ticket.created", "sla.breached"],
            "organization": self.acme.pk,
            "active": "on",
            **changes,
        }

    def test_creating_shows_the_secret_once(self):
        response = self.web.post("/webhooks/new", self.form())
        self.assertEqual(response.status_code, 200)
        subscription = Subscription.objects.get()
        self.assertContains(response, subscription.secret)
        self.assertEqual(subscription.events, ["ticket.created", "sla.breached"])
        self.assertEqual((subscription.organization, subscription.owner), (self.acme, self.alice))
        page = self.web.get(f"/webhooks/{subscription.pk}")
        self.assertContains(page, "https://chat.example.test/hook")
        self.assertNotContains(page, subscription.secret)
        self.assertContains(self.web.get("/webhooks/"), "Chat")

    def test_a_bad_url_is_shown_next_to_its_field(self):
        response = self.web.post("/webhooks/new", self.form(url="https://me:pw@example.test/"))
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, "no user name or password", status_code=422)
        self.assertFalse(Subscription.objects.exists())

    def test_edit_ping_new_secret_and_delete(self):
        subscription, secret = hooks.create_subscription(
            self.alice, name="Chat", url="https://chat.example.test/hook"
        )
        edited = self.web.post(f"/webhooks/{subscription.pk}/edit", self.form(name="Chat ops"))
        self.assertRedirects(edited, f"/webhooks/{subscription.pk}")
        subscription.refresh_from_db()
        self.assertEqual(subscription.name, "Chat ops")

        self.web.post(f"/webhooks/{subscription.pk}/ping")
        self.assertEqual(
            OutboxMessage.objects.filter(kind="webhook").get().payload["event"], "ping"
        )
        renewed = self.web.post(f"/webhooks/{subscription.pk}/secret")
        subscription.refresh_from_db()
        self.assertNotEqual(subscription.secret, secret)
        self.assertContains(renewed, subscription.secret)

        self.assertRedirects(self.web.post(f"/webhooks/{subscription.pk}/delete"), "/webhooks/")
        self.assertFalse(Subscription.objects.exists())

    def test_the_delivery_log_shows_each_attempt(self):
        subscription, _ = hooks.create_subscription(
            self.alice, name="Chat", url="https://chat.example.test/hook"
        )
        delivery = uuid.uuid4()
        Delivery.objects.create(
            subscription=subscription,
            delivery_id=delivery,
            event="ticket.created",
            attempt=1,
            status_code=503,
            error="HTTP 503",
            response_excerpt="maintenance",
        )
        Delivery.objects.create(
            subscription=subscription,
            delivery_id=delivery,
            event="ticket.created",
            attempt=2,
            status_code=200,
            ok=True,
        )
        page = self.web.get(f"/webhooks/{subscription.pk}")
        self.assertContains(page, "HTTP 503")
        self.assertContains(page, "maintenance")
        self.assertContains(page, str(delivery)[:8], count=2)

    def test_customers_are_kept_out(self):
        subscription, _ = hooks.create_subscription(
            self.alice, name="Chat", url="https://chat.example.test/hook", organization=self.acme
        )
        customer = Client()
        customer.force_login(self.carol)
        self.assertEqual(customer.get("/webhooks/").status_code, 403)
        self.assertEqual(customer.get(f"/webhooks/{subscription.pk}").status_code, 403)
        self.assertEqual(customer.post("/webhooks/new", self.form()).status_code, 403)
        self.assertEqual(Subscription.objects.count(), 1)
