"""API tokens: shown once, stored only as a digest, refused when expired or revoked, limited by
scope, and marked when used."""

import hashlib
from datetime import UTC, datetime, timedelta

import time_machine
from django.test import Client

from sustain.accounts import actions as accounts
from sustain.accounts.models import ApiToken
from sustain.core.errors import Forbidden, Invalid
from sustain.desk.models import Ticket
from tests.base import ApiClient, SustainTestCase

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


class ApiTokenTests(SustainTestCase):
    def test_the_raw_token_is_never_stored(self):
        token, raw = accounts.create_token(None, self.alice, name="laptop")
        self.assertTrue(raw.startswith("sus_"))
        self.assertGreaterEqual(len(raw), 40)
        self.assertEqual(token.digest, hashlib.sha256(raw.encode()).hexdigest())
        self.assertEqual(token.prefix, raw[:12])
        stored = ApiToken.objects.filter(pk=token.pk).values().get()
        self.assertNotIn(raw, [str(v) for v in stored.values()])

    def test_a_token_authenticates_its_user(self):
        response = self.api(self.alice).get("/api/v1/me")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["email"], "alice@northwind.test")

    def test_an_unknown_or_mangled_token_is_401(self):
        raw = self.token_for(self.alice)
        for bad in (raw[:-1] + ("A" if raw[-1] != "A" else "B"), "sus_nope", "nope", raw.upper()):
            with self.subTest(token=bad):
                self.assertEqual(ApiClient(bad).get("/api/v1/me").status_code, 401)

    def test_an_expired_token_is_401(self):
        with time_machine.travel(T0, tick=False):
            raw = self.token_for(self.alice, expires_in_days=7)
        with time_machine.travel(T0 + timedelta(days=7) - timedelta(seconds=1), tick=False):
            self.assertEqual(ApiClient(raw).get("/api/v1/me").status_code, 200)
        with time_machine.travel(T0 + timedelta(days=7), tick=False):
            response = ApiClient(raw).get("/api/v1/me")
        self.assertEqual(response.status_code, 401)
        self.assertEqual(set(response.json()), {"detail", "errors"})

    def test_a_revoked_token_is_401(self):
        token, raw = accounts.create_token(None, self.alice)
        self.assertEqual(ApiClient(raw).get("/api/v1/me").status_code, 200)
        accounts.revoke_token(self.alice, token)
        self.assertEqual(ApiClient(raw).get("/api/v1/me").status_code, 401)

    def test_a_deactivated_users_token_is_401(self):
        raw = self.token_for(self.bob)
        self.bob.is_active = False
        self.bob.save()
        self.assertEqual(ApiClient(raw).get("/api/v1/me").status_code, 401)

    def test_a_read_token_reads_but_may_not_write(self):
        api = ApiClient(self.token_for(self.carol, scope="read"))
        self.assertEqual(api.get("/api/v1/tickets").status_code, 200)
        response = api.post("/api/v1/tickets", {"title": "From a read token"})
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["detail"], "This token may only read.")
        self.assertFalse(Ticket.objects.exists())
        ticket = self.open_ticket(self.carol)
        self.assertEqual(
            api.patch(f"/api/v1/tickets/{ticket.key}", {"title": "x"}).status_code, 403
        )
        self.assertEqual(
            api.delete(f"/api/v1/tickets/{ticket.key}/watchers/carol@acme.test").status_code, 403
        )

    def test_last_use_is_recorded_at_most_once_a_minute(self):
        token, raw = accounts.create_token(None, self.alice)
        self.assertIsNone(token.last_used_at)
        api = ApiClient(raw)
        with time_machine.travel(T0, tick=False):
            api.get("/api/v1/me")
        token.refresh_from_db()
        self.assertEqual(token.last_used_at, T0)
        with time_machine.travel(T0 + timedelta(seconds=59), tick=False):
            api.get("/api/v1/me")
        token.refresh_from_db()
        self.assertEqual(token.last_used_at, T0)
        with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
            api.get("/api/v1/me")
        token.refresh_from_db()
        self.assertEqual(token.last_used_at, T0 + timedelta(minutes=2))

    def test_a_refused_token_is_not_marked_used(self):
        token, raw = accounts.create_token(None, self.alice)
        accounts.revoke_token(self.alice, token)
        ApiClient(raw).get("/api/v1/me")
        token.refresh_from_db()
        self.assertIsNone(token.last_used_at)

    def test_expiry_must_be_positive_and_scope_known(self):
        with self.assertRaises(Invalid) as refused:
            accounts.create_token(None, self.alice, expires_in_days=0)
        self.assertEqual(refused.exception.errors[0]["field"], "expires")
        with self.assertRaises(Invalid):
            accounts.create_token(None, self.alice, scope="admin")

    def test_only_admins_make_tokens_for_others(self):
        with self.assertRaises(Forbidden):
            accounts.create_token(self.alice, self.bob)
        token, _ = accounts.create_token(self.root, self.bob)
        self.assertEqual(token.user, self.bob)


class TokenEndpointTests(SustainTestCase):
    def test_creating_a_token_through_the_api_shows_it_once(self):
        api = self.api(self.alice)
        response = api.post(
            "/api/v1/tokens", {"name": "ci", "expires_in_days": 30, "scope": "read"}
        )
        self.assertEqual(response.status_code, 201)
        body = response.json()
        raw = body["token"]
        self.assertEqual(ApiClient(raw).get("/api/v1/me").json()["email"], "alice@northwind.test")
        listed = api.get("/api/v1/tokens").json()
        self.assertNotIn("token", listed[0])
        self.assertEqual(listed[0]["prefix"], raw[:12])
        self.assertEqual(listed[0]["scope"], "read")

    def test_revoking_ones_own_token(self):
        api = self.api(self.alice)
        other, raw = accounts.create_token(None, self.alice)
        self.assertEqual(api.delete(f"/api/v1/tokens/{other.pk}").status_code, 204)
        self.assertEqual(ApiClient(raw).get("/api/v1/me").status_code, 401)
        self.assertEqual(api.delete(f"/api/v1/tokens/{other.pk}").status_code, 404)

    def test_another_users_token_cannot_be_revoked(self):
        token, raw = accounts.create_token(None, self.bob)
        self.assertEqual(self.api(self.alice).delete(f"/api/v1/tokens/{token.pk}").status_code, 404)
        self.assertEqual(ApiClient(raw).get("/api/v1/me").status_code, 200)

    def test_a_session_is_accepted_for_reads_without_a_token(self):
        client = Client()
        client.force_login(self.alice)
        self.assertEqual(client.get("/api/v1/me").json()["email"], "alice@northwind.test")
