"""The command line: `sustain token …` and `sustain createsuperuser --noinput`."""

import os
from datetime import UTC, datetime
from io import StringIO
from unittest import mock

import time_machine
from django.core.management import CommandError, call_command
from django.test import TestCase

from sustain.accounts.models import ApiToken, Organization, Role, User
from tests.base import ApiClient, SustainTestCase


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


class TokenCommandTests(SustainTestCase):
    def test_create_prints_the_token_alone_on_the_last_line(self):
        with time_machine.travel(datetime(2026, 8, 3, 12, 0, tzinfo=UTC), tick=False):
            out, err = run("token", "create", "alice@northwind.test", "--expires", "7")
        raw = out.strip().splitlines()[-1]
        self.assertRegex(raw, r"^sus_[A-Za-z0-9_-]{40,}$")
        self.assertIn("expires", err)
        token = ApiToken.objects.get(user=self.alice)
        self.assertEqual(token.prefix, raw[:12])
        self.assertEqual(token.expires_at, datetime(2026, 8, 10, 12, 0, tzinfo=UTC))
        self.assertIn("expires 2026-08-10T12:00:00+00:00", err)
        with time_machine.travel(datetime(2026, 8, 10, 11, 59, tzinfo=UTC)):
            me = ApiClient(raw).get("/api/v1/me")
        self.assertEqual(me.json()["email"], "alice@northwind.test")

    def test_create_a_read_token_for_an_address_in_any_case(self):
        out, _ = run("token", "create", "ALICE@northwind.test", "--scope", "read", "--name", "ci")
        raw = out.strip().splitlines()[-1]
        token = ApiToken.objects.get(prefix=raw[:12])
        self.assertEqual((token.user, token.scope, token.name), (self.alice, "read", "ci"))
        self.assertIsNone(token.expires_at)
        self.assertEqual(ApiClient(raw).post("/api/v1/tickets", {"title": "x"}).status_code, 403)

    def test_an_unknown_user_or_bad_expiry_is_an_error(self):
        with self.assertRaisesMessage(CommandError, "No user with e-mail nobody@x.test"):
            run("token", "create", "nobody@x.test")
        with self.assertRaisesMessage(CommandError, "positive number of days"):
            run("token", "create", "alice@northwind.test", "--expires", "0")
        self.assertFalse(ApiToken.objects.exists())

    def test_list_and_revoke_by_prefix(self):
        out, _ = run("token", "create", "alice@northwind.test")
        raw = out.strip().splitlines()[-1]
        listing, _ = run("token", "list", "alice@northwind.test")
        self.assertIn(raw[:12], listing)
        self.assertIn("usable", listing)
        self.assertNotIn(raw, listing)
        revoked, _ = run("token", "revoke", raw[:12] + "…")
        self.assertIn(f"Revoked {raw[:12]}", revoked)
        self.assertEqual(ApiClient(raw).get("/api/v1/me").status_code, 401)
        self.assertIn("revoked", run("token", "list", "alice@northwind.test")[0])
        with self.assertRaisesMessage(CommandError, "No usable token"):
            run("token", "revoke", raw[:12])


class CreateSuperuserCommandTests(TestCase):
    def create(self, *args: str, password: str = "a-long-admin-passphrase"):
        with mock.patch.dict(os.environ, {"DJANGO_SUPERUSER_PASSWORD": password}):
            return run("createsuperuser", "--noinput", *args)

    def test_noinput_with_an_email_and_the_password_from_the_environment(self):
        self.create("--email", "Ops@Example.com")
        admin = User.objects.get()
        self.assertEqual(admin.email, "ops@example.com")
        self.assertEqual((admin.role, admin.is_superuser, admin.is_admin), (Role.ADMIN, True, True))
        self.assertTrue(admin.check_password("a-long-admin-passphrase"))
        self.assertTrue(admin.organization.is_provider)
        response = self.client.post(
            "/login/", {"username": "ops@example.com", "password": "a-long-admin-passphrase"}
        )
        self.assertRedirects(response, "/", fetch_redirect_response=False)

    def test_the_superuser_joins_the_existing_provider(self):
        provider = Organization.objects.create(name="Northwind", slug="northwind", is_provider=True)
        Organization.objects.create(name="Acme", slug="acme")
        self.create("--email", "root@example.com")
        self.assertEqual(User.objects.get().organization, provider)
        self.assertEqual(Organization.objects.filter(is_provider=True).count(), 1)

    def test_an_existing_address_is_refused(self):
        self.create("--email", "root@example.com")
        with self.assertRaises(CommandError):
            self.create("--email", "root@example.com")
        self.assertEqual(User.objects.count(), 1)
