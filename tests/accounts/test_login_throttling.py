"""Logging in: five failed attempts for one account lock it for 15 minutes, even with the right
password; other accounts are not affected."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.test import Client

from tests.base import PASSWORD, SustainTestCase

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


class LoginThrottlingTests(SustainTestCase):
    def login(self, email: str, password: str) -> bool:
        """Whether the attempt logged in (the session is read at the same moment)."""
        client = Client()
        self.response = client.post("/login/", {"username": email, "password": password})
        self.client_used = client
        return self.response.status_code == 302 and "_auth_user_id" in client.session

    def fail(self, email: str, times: int) -> None:
        for _ in range(times):
            self.assertFalse(self.login(email, "wrong password"))

    def test_the_right_password_logs_in_and_lands_on_the_queue_or_portal(self):
        self.assertTrue(self.login("alice@northwind.test", PASSWORD))
        self.assertEqual(self.client_used.get("/").url, "/desk/")
        self.assertTrue(self.login("carol@acme.test", PASSWORD))
        self.assertEqual(self.client_used.get("/").url, "/portal/")

    def test_the_email_address_is_not_case_sensitive(self):
        self.assertTrue(self.login("Carol@ACME.test", PASSWORD))
        self.assertEqual(self.client_used.get("/").url, "/portal/")

    def test_changing_the_case_of_the_address_does_not_escape_the_lock(self):
        with time_machine.travel(T0, tick=False):
            for variant in (
                "alice@northwind.test",
                "Alice@northwind.test",
                "ALICE@northwind.test",
                "alice@Northwind.test",
                "alice@NORTHWIND.TEST",
            ):
                self.assertFalse(self.login(variant, "wrong password"))
            self.assertFalse(self.login("aLiCe@northwind.test", PASSWORD))
            self.assertFalse(self.login("alice@northwind.test", PASSWORD))

    def test_a_wrong_password_shows_the_form_again(self):
        self.assertFalse(self.login("alice@northwind.test", "nope"))
        self.assertEqual(self.response.status_code, 200)
        self.assertContains(self.response, 'name="password"')

    def test_after_five_failures_even_the_right_password_is_refused(self):
        with time_machine.travel(T0, tick=False):
            self.fail("alice@northwind.test", 5)
            self.assertFalse(self.login("alice@northwind.test", PASSWORD))
        self.assertEqual(self.response.status_code, 429)

    def test_four_failures_do_not_lock(self):
        with time_machine.travel(T0, tick=False):
            self.fail("alice@northwind.test", 4)
            self.assertTrue(self.login("alice@northwind.test", PASSWORD))

    def test_a_success_starts_the_count_again(self):
        with time_machine.travel(T0, tick=False):
            self.fail("alice@northwind.test", 4)
            self.login("alice@northwind.test", PASSWORD)
            self.fail("alice@northwind.test", 4)
            self.assertTrue(self.login("alice@northwind.test", PASSWORD))

    def test_the_lock_is_per_account(self):
        with time_machine.travel(T0, tick=False):
            self.fail("alice@northwind.test", 5)
            self.assertTrue(self.login("bob@northwind.test", PASSWORD))

    def test_the_lock_lifts_fifteen_minutes_after_the_last_attempt(self):
        with time_machine.travel(T0, tick=False):
            self.fail("alice@northwind.test", 5)
        with time_machine.travel(T0 + timedelta(minutes=16), tick=False):
            self.assertTrue(self.login("alice@northwind.test", PASSWORD))

    def test_trying_again_during_the_lock_starts_the_fifteen_minutes_again(self):
        with time_machine.travel(T0, tick=False):
            self.fail("alice@northwind.test", 5)
        with time_machine.travel(T0 + timedelta(minutes=14), tick=False):
            self.assertFalse(self.login("alice@northwind.test", PASSWORD))
        with time_machine.travel(T0 + timedelta(minutes=16), tick=False):
            self.assertFalse(self.login("alice@northwind.test", PASSWORD))
        with time_machine.travel(T0 + timedelta(minutes=32), tick=False):
            self.assertTrue(self.login("alice@northwind.test", PASSWORD))

    def test_a_deactivated_user_cannot_log_in(self):
        self.carol.is_active = False
        self.carol.save()
        self.assertFalse(self.login("carol@acme.test", PASSWORD))
