"""Webhooks cannot reach the server's own network (SSRF): unsafe targets are refused when a
subscription is saved (API, pages, admin) and again at delivery on the address connected to;
the delivery log says what kind of failure it was, never the socket's text.

These tests run with no network allowed on purpose (SUSTAIN_OUTBOUND_ALLOW_NETWORKS empty),
except where a test allows one to show the allowance works. Names resolve through an injected
resolver, so `evil.example` can point at 127.0.0.1 without DNS.
"""

from __future__ import annotations

import socket
from datetime import timedelta

from django.test import Client, override_settings
from django.utils import timezone

from sustain.core import outbound, outbox
from sustain.core.errors import Invalid
from sustain.hooks import actions as hooks
from sustain.hooks.models import Delivery, Subscription
from tests.base import SustainTestCase
from tests.hooks.receiver import Receiver

PUBLIC = "93.184.216.34"
LOCAL = ("127.0.0.1/32",)  # the test receivers, allowed on purpose where a test says so
# The forms the issue names, and their cousins; each must be refused where it is saved.
HOSTILE = [
    "http://127.0.0.1:8000/hook",
    "http://localhost:8000/hook",
    "http://localhost./hook",
    "http://hooks.localhost/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://10.0.0.5:8080/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.10/hook",
    "http://100.64.0.1/hook",
    "http://0.0.0.0:8000/hook",
    "http://[::1]:8000/hook",
    "http://[fd00::1]/hook",
    "http://[fe80::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[64:ff9b::7f00:1]/hook",
    "http://2130706433/hook",
    "http://0x7f000001/hook",
    "http://127.1/hook",
    "http://0177.0.0.1/hook",
    "http://224.0.0.1/hook",
    "http://255.255.255.255/hook",
    "https://evil.example/hook",  # resolves to 127.0.0.1 (below)
    "https://mixed.example/hook",  # one public and one private address
]


def resolver(host: str, port: int) -> list[str]:
    answers = {
        "evil.example": ["127.0.0.1"],
        "mixed.example": [PUBLIC, "10.1.2.3"],
        "chat.example.test": [PUBLIC],
    }
    if host not in answers:
        raise outbound.OutboundError(outbound.Kind.NOT_RESOLVED)
    return answers[host]


@override_settings(OUTBOUND_ALLOW_NETWORKS=())
class SsrfTestCase(SustainTestCase):
    def setUp(self):
        resolving = outbound.using_resolver(resolver)
        resolving.__enter__()
        self.addCleanup(resolving.__exit__, None, None, None)

    def subscribe(self, url: str) -> Subscription:
        subscription, _ = hooks.create_subscription(
            self.alice, name="Chat", url=url, events=["ticket.created"]
        )
        return subscription


class SavingTests(SsrfTestCase):
    def test_the_api_refuses_every_hostile_target_naming_url(self):
        as_alice = self.api(self.alice)
        kept = self.subscribe("https://chat.example.test/hook")
        for url in HOSTILE:
            with self.subTest(url=url):
                created = as_alice.post("/api/v1/webhooks", {"name": "x", "url": url})
                self.assertEqual(created.status_code, 422, created.content)
                self.assertEqual([e["field"] for e in created.json()["errors"]], ["url"])
                changed = as_alice.patch(f"/api/v1/webhooks/{kept.pk}", {"url": url})
                self.assertEqual(changed.status_code, 422, changed.content)
                self.assertEqual([e["field"] for e in changed.json()["errors"]], ["url"])
        self.assertEqual(list(Subscription.objects.values_list("url", flat=True)), [kept.url])

    def test_the_message_says_why_without_naming_the_address(self):
        created = self.api(self.alice).post(
            "/api/v1/webhooks", {"name": "x", "url": "https://evil.example/hook"}
        )
        [error] = created.json()["errors"]
        self.assertIn("loopback", error["message"])
        self.assertIn("SUSTAIN_OUTBOUND_ALLOW_NETWORKS", error["message"])
        self.assertNotIn("127.0.0.1", error["message"])

    def test_the_pages_refuse_them_next_to_the_url_field(self):
        web = Client()
        web.force_login(self.alice)
        kept = self.subscribe("https://chat.example.test/hook")
        for url in HOSTILE:
            with self.subTest(url=url):
                form = {"name": "Chat", "url": url, "events": ["ticket.created"], "active": "on"}
                created = web.post("/webhooks/new", form)
                self.assertEqual(created.status_code, 422)
                self.assertIn("url", created.context["form"].errors)
                changed = web.post(f"/webhooks/{kept.pk}/edit", form)
                self.assertEqual(changed.status_code, 422)
                self.assertIn("url", changed.context["form"].errors)
        self.assertEqual(list(Subscription.objects.values_list("url", flat=True)), [kept.url])

    def test_the_admin_refuses_them_too(self):
        web = Client()
        web.force_login(self.root)
        for url in ("http://127.0.0.1:8000/hook", "https://evil.example/hook"):
            with self.subTest(url=url):
                response = web.post(
                    "/admin/hooks/subscription/add/",
                    {"name": "Chat", "url": url, "events": "[]", "secret": "x" * 32},
                )
                self.assertEqual(response.status_code, 200)
                self.assertIn("url", response.context["adminform"].form.errors)
        self.assertFalse(Subscription.objects.exists())
        saved = web.post(
            "/admin/hooks/subscription/add/",
            {
                "name": "Chat",
                "url": "https://chat.example.test/hook",
                "events": "[]",
                "secret": "x" * 32,
                "active": "on",
            },
        )
        self.assertEqual(saved.status_code, 302, saved.context and saved.context["errors"])
        self.assertTrue(Subscription.objects.filter(url="https://chat.example.test/hook").exists())

    def test_enabling_again_checks_the_stored_url(self):
        """A row whose URL predates the guard (or was set by hand) is not enabled blind."""
        as_alice = self.api(self.alice)
        subscription = self.subscribe("https://chat.example.test/hook")
        Subscription.objects.filter(pk=subscription.pk).update(
            url="http://127.0.0.1:8000/healthz", active=False
        )
        response = as_alice.patch(f"/api/v1/webhooks/{subscription.pk}", {"active": True})
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual([e["field"] for e in response.json()["errors"]], ["url"])
        self.assertFalse(Subscription.objects.get(pk=subscription.pk).active)
        # A new, allowed URL with the same request enables it.
        fixed = as_alice.patch(
            f"/api/v1/webhooks/{subscription.pk}",
            {"active": True, "url": "https://chat.example.test/hook"},
        )
        self.assertEqual(fixed.status_code, 200, fixed.content)
        self.assertTrue(Subscription.objects.get(pk=subscription.pk).active)

    def test_the_address_decides_and_a_name_that_does_not_resolve_yet_may_be_saved(self):
        self.subscribe("https://not-yet.example/hook")  # checked again at every delivery
        with self.assertRaises(Invalid):
            self.subscribe("https://evil.example/hook")

    def test_an_allowed_network_may_be_saved_and_nothing_else_with_it(self):
        with self.settings(OUTBOUND_ALLOW_NETWORKS=("10.0.0.0/8", "127.0.0.1/32")):
            self.subscribe("http://10.0.0.5:8080/hook")
            self.subscribe("https://evil.example/hook")
            for url in ("http://192.168.1.10/", "http://127.0.0.2/", "http://localhost/"):
                with self.subTest(url=url), self.assertRaises(Invalid):
                    self.subscribe(url)


class DeliveringTests(SsrfTestCase):
    def deliver(self) -> Delivery:
        outbox.deliver_due(timezone.now())
        return Delivery.objects.order_by("-id").first()

    def test_dns_rebinding_public_at_save_private_at_delivery_sends_nothing(self):
        answers = {"rebind.example": [PUBLIC]}
        with Receiver() as receiver, outbound.using_resolver(lambda h, p: answers[h]):
            port = receiver.server.server_address[1]
            self.subscribe(f"http://rebind.example:{port}/hook")  # public now: saved
            answers["rebind.example"] = ["127.0.0.1"]  # the attacker's DNS changes
            self.open_ticket(self.carol)
            logged = self.deliver()
        self.assertEqual(receiver.received, [])
        self.assertEqual((logged.ok, logged.status_code), (False, None))
        self.assertEqual(logged.error, "address not allowed: loopback")

    def test_a_row_saved_before_the_guard_is_refused_at_delivery(self):
        with Receiver() as receiver:
            subscription = self.subscribe("https://chat.example.test/hook")
            Subscription.objects.filter(pk=subscription.pk).update(url=receiver.url)  # old row
            self.open_ticket(self.carol)
            logged = self.deliver()
        self.assertEqual(receiver.received, [])
        self.assertEqual(logged.error, "address not allowed: loopback")

    def test_an_allowed_network_reaches_the_real_receiver_under_its_host_name(self):
        with (
            self.settings(OUTBOUND_ALLOW_NETWORKS=LOCAL),
            Receiver() as receiver,
        ):
            port = receiver.server.server_address[1]
            self.subscribe(f"http://evil.example:{port}/hook")
            self.open_ticket(self.carol)
            logged = self.deliver()
        [request] = receiver.received
        self.assertEqual(request.headers["Host"], f"evil.example:{port}")
        self.assertEqual((logged.ok, logged.status_code, logged.error), (True, 200, ""))

    def test_redirects_are_not_followed(self):
        with self.settings(OUTBOUND_ALLOW_NETWORKS=LOCAL), Receiver(script=[302, 307]) as receiver:
            self.subscribe(receiver.url)
            self.open_ticket(self.carol)
            logged = self.deliver()
        self.assertEqual(len(receiver.received), 1)
        self.assertEqual((logged.ok, logged.status_code), (False, 302))
        self.assertEqual(logged.error, "redirect not followed (HTTP 302)")

    def test_failures_are_logged_as_kinds_never_socket_text(self):
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        with self.settings(OUTBOUND_ALLOW_NETWORKS=LOCAL), Receiver() as plain:
            cases = {
                f"http://127.0.0.1:{port}/": "connection refused",
                "https://not-yet.example/": "name not resolved",
                f"https://127.0.0.1:{plain.server.server_address[1]}/": "TLS handshake failed",
            }
            for url, kind in cases.items():
                with self.subTest(url=url):
                    subscription = self.subscribe(url)
                    self.open_ticket(self.carol)
                    logged = self.deliver()
                    self.assertEqual(logged.error, kind)
                    self.assertEqual(logged.response_excerpt, "")
                    hooks.delete_subscription(self.alice, subscription)
        for error in Delivery.objects.values_list("error", flat=True):
            self.assertNotIn("Errno", error)
            self.assertNotIn("HTTPConnection", error)

    def test_a_failed_answer_keeps_a_short_excerpt_and_a_success_none(self):
        with self.settings(OUTBOUND_ALLOW_NETWORKS=LOCAL), Receiver(script=[500]) as receiver:
            self.subscribe(receiver.url)
            self.open_ticket(self.carol)
            failed = self.deliver()
            outbox.deliver_due(timezone.now() + timedelta(minutes=1))
        self.assertEqual((failed.status_code, failed.response_excerpt), (500, '{"status": 500}'))
        succeeded = Delivery.objects.order_by("-id").first()
        self.assertEqual((succeeded.ok, succeeded.response_excerpt), (True, ""))
