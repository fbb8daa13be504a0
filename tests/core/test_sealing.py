"""Secrets sealed at rest: the database holds ciphertext only, Python code sees the plaintext,
keys rotate, old clear rows are sealed by the migration, and nothing shows a secret back."""

from __future__ import annotations

import re
import stat
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, TestCase, override_settings

from sustain.bugs.models import Repository
from sustain.core import sealing
from sustain.hooks.models import Subscription
from sustain.mail.models import Mailbox
from tests.base import SustainTestCase

K1 = Fernet.generate_key().decode()
K2 = Fernet.generate_key().decode()
IMAP_PASSWORD = "imap-password-Zq9!"
HOOK_SECRET = "hook-signing-secret-0123456789"
REPO_SECRET = "repository-push-secret-abcdef"


def stored(model: type, pk: int, column: str) -> str:
    """The column's text as the database holds it, read past the ORM."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s", [pk]
        )
        return cursor.fetchone()[0]


def put_raw(model: type, pk: int, column: str, value: str) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {connection.ops.quote_name(column)} = %s WHERE id = %s",
            [value, pk],
        )


def make_secrets() -> tuple[Mailbox, Subscription, Repository]:
    mailbox = Mailbox.objects.create(
        name="desk", host="imap.test", username="desk", password=IMAP_PASSWORD
    )
    subscription = Subscription.objects.create(
        name="ci", url="https://receiver.test/hook", secret=HOOK_SECRET
    )
    repository = Repository.objects.create(name="ledger", webhook_secret=REPO_SECRET)
    return mailbox, subscription, repository


@override_settings(SEALING_KEYS=[K1])
class SealedAtRestTests(TestCase):
    def test_the_columns_hold_no_plaintext_and_python_sees_it(self) -> None:
        mailbox, subscription, repository = make_secrets()
        for model, pk, column, plain in [
            (Mailbox, mailbox.pk, "password", IMAP_PASSWORD),
            (Subscription, subscription.pk, "secret", HOOK_SECRET),
            (Repository, repository.pk, "webhook_secret", REPO_SECRET),
        ]:
            raw = stored(model, pk, column)
            self.assertTrue(raw.startswith("sealed:"), raw)
            self.assertNotIn(plain, raw)
            self.assertEqual(getattr(model.objects.get(pk=pk), column), plain)
            self.assertEqual(model.objects.values_list(column, flat=True).get(pk=pk), plain)

    def test_sealing_twice_differs_and_update_seals_too(self) -> None:
        _, subscription, _ = make_secrets()
        first = stored(Subscription, subscription.pk, "secret")
        subscription.save()
        self.assertNotEqual(stored(Subscription, subscription.pk, "secret"), first)
        Subscription.objects.filter(pk=subscription.pk).update(secret="another-secret-value-1")
        self.assertNotIn("another", stored(Subscription, subscription.pk, "secret"))
        self.assertEqual(Subscription.objects.get().secret, "another-secret-value-1")

    def test_a_secret_that_looks_sealed_is_sealed_like_any_other(self) -> None:
        Subscription.objects.create(name="x", url="https://r.test", secret="sealed:gAAAAnot")
        self.assertEqual(Subscription.objects.get().secret, "sealed:gAAAAnot")

    def test_empty_stays_empty_and_only_emptiness_can_be_queried(self) -> None:
        repository = Repository.objects.create(name="bare")
        self.assertEqual(stored(Repository, repository.pk, "webhook_secret"), "")
        self.assertEqual(Repository.objects.get().webhook_secret, "")
        self.assertEqual(Repository.objects.filter(webhook_secret="").count(), 1)
        with self.assertRaises(FieldError):
            list(Repository.objects.filter(webhook_secret=REPO_SECRET))
        with self.assertRaises(FieldError):
            list(Repository.objects.filter(webhook_secret__startswith="r"))


class KeyTests(TestCase):
    def test_rotation_with_two_keys(self) -> None:
        with override_settings(SEALING_KEYS=[K1]):
            mailbox, _, _ = make_secrets()
            before = stored(Mailbox, mailbox.pk, "password")
        with override_settings(SEALING_KEYS=[K2, K1]):
            # The new key seals, the old one still opens.
            self.assertEqual(Mailbox.objects.get().password, IMAP_PASSWORD)
            out = StringIO()
            call_command("secrets", "rotate", stdout=out)
            self.assertIn("3 values re-sealed", out.getvalue())
            self.assertNotEqual(stored(Mailbox, mailbox.pk, "password"), before)
        with override_settings(SEALING_KEYS=[K2]):  # the old key dropped
            self.assertEqual(Mailbox.objects.get().password, IMAP_PASSWORD)
            self.assertEqual(Subscription.objects.get().secret, HOOK_SECRET)
            self.assertEqual(Repository.objects.get().webhook_secret, REPO_SECRET)
        with override_settings(SEALING_KEYS=[K1]), self.assertRaises(sealing.SealingError):
            Mailbox.objects.get()

    def test_a_wrong_key_is_a_clear_error_not_an_empty_secret(self) -> None:
        with override_settings(SEALING_KEYS=[K1]):
            make_secrets()
        with override_settings(SEALING_KEYS=[K2]):
            with self.assertRaisesMessage(sealing.SealingError, "sealed with another key"):
                Subscription.objects.get()
            with self.assertRaisesMessage(sealing.SealingError, "hooks.Subscription.secret"):
                Subscription.objects.get()
            with self.assertRaises(CommandError) as failed:
                call_command("secrets", "check", stdout=StringIO(), stderr=StringIO())
            self.assertIn("3 sealed values do not open", str(failed.exception))

    def test_a_malformed_key_is_named(self) -> None:
        with (
            override_settings(SEALING_KEYS=[K1, "not-a-key"]),
            self.assertRaisesMessage(sealing.SealingError, "Key 2 in SUSTAIN_SEALING_KEYS"),
        ):
            Mailbox.objects.create(name="d", host="h", username="u", password="p")

    def test_a_clear_value_in_the_column_is_refused(self) -> None:
        with override_settings(SEALING_KEYS=[K1]):
            mailbox, _, _ = make_secrets()
            put_raw(Mailbox, mailbox.pk, "password", "typed-in-by-hand")
            with self.assertRaisesMessage(sealing.SealingError, "stored in clear"):
                Mailbox.objects.get()
            call_command("secrets", "rotate", stdout=StringIO())  # seals it
            self.assertEqual(Mailbox.objects.get().password, "typed-in-by-hand")
            self.assertNotIn("typed", stored(Mailbox, mailbox.pk, "password"))


def test_the_key_file_is_made_on_first_use_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "sealing_keys"
    with override_settings(SEALING_KEYS=[], SEALING_KEY_FILE=path):
        token = sealing.seal("x")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert sealing.unseal(token) == "x"
        (first,) = sealing.read_key_file(path)
        sealing._create_key_file(path)  # a second process starting at once: the first key stays
        assert sealing.read_key_file(path) == [first]
        assert [p.name for p in path.parent.iterdir()] == ["sealing_keys"]
        call_command("secrets", "new-key", "--install", stdout=StringIO())
        keys = sealing.read_key_file(path)
        assert len(keys) == 2 and keys[1] == first
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert sealing.unseal(token) == "x"  # the old key still opens
        assert sealing.reseal(token) != token


@pytest.mark.django_db
def test_rotate_drop_old_keys_leaves_the_key_file_with_the_current_key(tmp_path: Path) -> None:
    path = tmp_path / "sealing_keys"
    with override_settings(SEALING_KEYS=[], SEALING_KEY_FILE=path):
        make_secrets()
        call_command("secrets", "new-key", "--install", stdout=StringIO())
        current = sealing.read_key_file(path)[0]
        call_command("secrets", "rotate", "--drop-old-keys", stdout=StringIO())
        assert sealing.read_key_file(path) == [current]
        assert Mailbox.objects.get().password == IMAP_PASSWORD


def test_new_key_prints_a_fernet_key() -> None:
    out = StringIO()
    call_command("secrets", "new-key", stdout=out)
    Fernet(out.getvalue().strip().encode())


@override_settings(SEALING_KEYS=[K1])
@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_the_clear_rows_already_stored() -> None:
    executor = MigrationExecutor(connection)
    before = [("hooks", "0001_initial"), ("mail", "0003_inboundmail_authentication")]
    after = [("hooks", "0002_seal_subscription_secret"), ("mail", "0004_seal_mailbox_password")]
    executor.migrate(before)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO hooks_subscription (name, url, events, include_internal, secret, active,"
            " consecutive_failures, disabled_reason, created_at, updated_at)"
            " VALUES ('old', 'https://r.test', '[]', false, %s, true, 0, '', %s, %s)",
            [HOOK_SECRET, "2026-01-01 00:00:00", "2026-01-01 00:00:00"],
        )
    pk = Subscription.objects.values_list("pk", flat=True).get()
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    raw = stored(Subscription, pk, "secret")
    assert raw.startswith("sealed:") and HOOK_SECRET not in raw
    assert Subscription.objects.get().secret == HOOK_SECRET
    # Reversed, the secret is in clear again (and sealed once more going forwards).
    MigrationExecutor(connection).migrate(before)
    assert stored(Subscription, pk, "secret") == HOOK_SECRET
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
    assert Subscription.objects.get().secret == HOOK_SECRET


@override_settings(SEALING_KEYS=[K1])
class NeverShownBackTests(SustainTestCase):
    def setUp(self) -> None:
        self.mailbox, self.subscription, self.repository = make_secrets()
        self.subscription.owner = self.mia
        self.subscription.save()
        self.client = Client()

    def assert_hidden(self, response) -> None:
        self.assertEqual(response.status_code, 200, response.content[:300])
        body = response.content.decode()
        for secret in (IMAP_PASSWORD, HOOK_SECRET, REPO_SECRET, "sealed:"):
            self.assertNotIn(secret, body)

    def test_admin_pages_do_not_render_secrets(self) -> None:
        self.client.force_login(self.root)
        for page in [
            "/admin/mail/mailbox/",
            f"/admin/mail/mailbox/{self.mailbox.pk}/change/",
            "/admin/hooks/subscription/",
            f"/admin/hooks/subscription/{self.subscription.pk}/change/",
            "/admin/hooks/subscription/add/",
            "/admin/bugs/repository/",
            f"/admin/bugs/repository/{self.repository.pk}/change/",
        ]:
            self.assert_hidden(self.client.get(page))

    def test_the_subscription_admin_keeps_a_blank_secret(self) -> None:
        self.client.force_login(self.root)
        url = f"/admin/hooks/subscription/{self.subscription.pk}/change/"
        form = {
            "name": "ci renamed",
            "url": "https://receiver.test/hook",
            "events": "[]",
            "organization": "",
            "secret": "",
            "active": "on",
            "owner": str(self.mia.pk),
            "disabled_reason": "",
        }
        response = self.client.post(url, form)
        self.assertEqual(response.status_code, 302, response.content.decode()[:2000])
        self.assertEqual(Subscription.objects.get().secret, HOOK_SECRET)
        self.assertEqual(Subscription.objects.get().name, "ci renamed")
        short = self.client.post(url, {**form, "secret": "short"})
        self.assertContains(short, "16 to")

    def test_api_and_pages_do_not_show_secrets(self) -> None:
        api = self.api(self.mia)
        self.assert_hidden(api.get("/api/v1/webhooks"))
        self.assert_hidden(api.get(f"/api/v1/webhooks/{self.subscription.pk}"))
        self.assert_hidden(api.get("/api/v1/vcs/repositories"))
        self.assert_hidden(api.get(f"/api/v1/vcs/repositories/{self.repository.pk}"))
        self.client.force_login(self.mia)
        self.assert_hidden(self.client.get("/webhooks/"))
        self.assert_hidden(self.client.get(f"/webhooks/{self.subscription.pk}"))
        self.assert_hidden(self.client.get(f"/webhooks/{self.subscription.pk}/edit"))
        self.assert_hidden(self.client.get("/mail/"))

    def test_no_api_answer_schema_carries_a_secret_but_the_shown_once_ones(self) -> None:
        from sustain.api import api

        schema = api.get_openapi_schema()
        answers = set()
        for operations in schema["paths"].values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    if str(status).startswith("2"):
                        answers |= set(re.findall(r"#/components/schemas/(\w+)", str(response)))
        components = schema["components"]["schemas"]
        carrying = {
            name
            for name in answers
            for prop in components.get(name, {}).get("properties", {})
            if prop in {"secret", "password", "webhook_secret"}
        }
        self.assertEqual(carrying, {"SubscriptionWithSecretOut", "SecretOut"})

    def test_the_page_showing_a_new_secret_is_never_cached(self) -> None:
        self.client.force_login(self.mia)
        response = self.client.post(f"/webhooks/{self.subscription.pk}/secret")
        self.assertEqual(response.status_code, 200)
        self.assertIn("no-store", response["Cache-Control"])
        secret = Subscription.objects.get().secret
        self.assertContains(response, secret)  # shown here, once
        self.assertNotContains(self.client.get(f"/webhooks/{self.subscription.pk}"), secret)

    def test_the_webhook_secret_is_still_shown_once_on_renewal(self) -> None:
        response = self.api(self.mia).post(f"/api/v1/webhooks/{self.subscription.pk}/secret", {})
        self.assertEqual(response.status_code, 200)
        secret = response.json()["secret"]
        self.assertEqual(Subscription.objects.get().secret, secret)
        self.assertNotIn(secret, stored(Subscription, self.subscription.pk, "secret"))


def test_the_system_check_names_a_malformed_key(tmp_path: Path) -> None:
    with override_settings(SEALING_KEYS=[K1]):
        assert sealing.check_keys() == []
    with override_settings(SEALING_KEYS=["nope"]):
        (error,) = sealing.check_keys()
        assert error.id == "sustain.E001" and "Key 1 in SUSTAIN_SEALING_KEYS" in error.msg
    missing = tmp_path / "not-yet"
    with override_settings(SEALING_KEYS=[], SEALING_KEY_FILE=missing):
        assert sealing.check_keys() == [] and not missing.exists()
        missing.write_text("# no key\n")
        assert "holds no key" in sealing.check_keys()[0].msg
