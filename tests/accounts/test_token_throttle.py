"""Failed bearer tokens are throttled per client address: after N failures in the window every
bearer request from that address is 429 with Retry-After; other addresses and good tokens from
elsewhere are unaffected; X-Forwarded-For counts only from a trusted proxy."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.test import Client, override_settings
from django.utils import timezone

from sustain.accounts.models import TokenFailure
from tests.base import SustainTestCase

LIMIT = 3
BAD = "sus_not-a-real-token-at-all"


@override_settings(TOKEN_FAILURE_LIMIT=LIMIT, TOKEN_FAILURE_WINDOW=300)
class TokenThrottleTests(SustainTestCase):
    def setUp(self) -> None:
        self.good = self.token_for(self.alice)
        self.client = Client()

    def me(self, token: str, address: str = "203.0.113.7", **headers: str):
        return self.client.get(
            "/api/v1/me",
            headers={"Authorization": f"Bearer {token}", **headers},
            REMOTE_ADDR=address,
        )

    def fail(self, times: int, address: str = "203.0.113.7", **headers: str) -> None:
        for _ in range(times):
            self.assertEqual(self.me(BAD, address, **headers).status_code, 401)

    def test_429_after_n_bad_tokens_even_for_a_good_one(self) -> None:
        self.fail(LIMIT)
        for token in (BAD, self.good):
            response = self.me(token)
            self.assertEqual(response.status_code, 429)
            self.assertIn("Too many failed token attempts", response.json()["detail"])
            self.assertTrue(1 <= int(response["Retry-After"]) <= 300)
        # Throttled attempts are not written: the table holds at most LIMIT rows per address.
        self.assertEqual(TokenFailure.objects.count(), LIMIT)

    def test_another_address_is_unaffected(self) -> None:
        self.fail(LIMIT)
        self.assertEqual(self.me(self.good, "198.51.100.9").status_code, 200)
        self.assertEqual(self.me(BAD, "198.51.100.9").status_code, 401)

    def test_a_good_token_works_again_after_the_window(self) -> None:
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            self.fail(LIMIT)
            retry = int(self.me(self.good)["Retry-After"])
            self.assertEqual(retry, 300)
        with time_machine.travel(start + timedelta(seconds=299), tick=False):
            self.assertEqual(self.me(self.good).status_code, 429)
        with time_machine.travel(start + timedelta(seconds=301), tick=False):
            self.assertEqual(self.me(self.good).status_code, 200)
            self.me(BAD)  # one new failure: far from the limit again
            self.assertEqual(TokenFailure.objects.count(), 1)  # the old ones were forgotten
            self.assertEqual(self.me(self.good).status_code, 200)

    def test_successful_requests_neither_count_nor_clear_the_count(self) -> None:
        self.fail(LIMIT - 1)
        for _ in range(5):
            self.assertEqual(self.me(self.good).status_code, 200)
        self.fail(1)
        self.assertEqual(self.me(self.good).status_code, 429)

    def test_session_users_are_not_throttled(self) -> None:
        self.fail(LIMIT)
        self.client.force_login(self.alice)
        response = self.client.get("/api/v1/me", REMOTE_ADDR="203.0.113.7")
        self.assertEqual(response.status_code, 200)

    def test_a_forged_forwarded_for_does_not_dodge_the_throttle(self) -> None:
        for n in range(LIMIT):
            self.fail(1, **{"X-Forwarded-For": f"192.0.2.{n}"})
        response = self.me(self.good, **{"X-Forwarded-For": "192.0.2.200"})
        self.assertEqual(response.status_code, 429)

    @override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
    def test_behind_a_trusted_proxy_the_forwarded_address_counts(self) -> None:
        proxy = "10.1.2.3"
        self.fail(LIMIT, proxy, **{"X-Forwarded-For": "192.0.2.1"})
        self.assertEqual(
            self.me(self.good, proxy, **{"X-Forwarded-For": "192.0.2.1"}).status_code, 429
        )
        # Another visitor through the same proxy; and a client-sent hop left of it is ignored.
        other = {"X-Forwarded-For": "192.0.2.1, 192.0.2.2"}
        self.assertEqual(self.me(self.good, proxy, **other).status_code, 200)
        self.assertEqual(set(TokenFailure.objects.values_list("address", flat=True)), {"192.0.2.1"})

    def test_an_ipv6_client_is_counted_by_its_64(self) -> None:
        for n in range(LIMIT):
            self.fail(1, f"2001:db8:1:2::{n + 1}")
        self.assertEqual(self.me(self.good, "2001:db8:1:2:ffff::1").status_code, 429)
        self.assertEqual(self.me(self.good, "2001:db8:1:3::1").status_code, 200)

    @override_settings(TOKEN_FAILURE_LIMIT=0)
    def test_a_limit_of_zero_turns_the_throttle_off(self) -> None:
        self.fail(LIMIT + 2)
        self.assertEqual(self.me(self.good).status_code, 200)
        self.assertFalse(TokenFailure.objects.exists())

    def post_with_key(self, token: str, key: str, address: str = "203.0.113.7"):
        return self.client.post(
            "/api/v1/tickets",
            {"title": "Throttled", "organization": "acme"},
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
            REMOTE_ADDR=address,
        )

    def test_a_throttled_address_cannot_tell_a_good_token_by_its_idempotency_replay(self) -> None:
        self.fail(LIMIT)
        for token in (self.good, BAD):
            answers = [self.post_with_key(token, "probe-1") for _ in range(2)]
            self.assertEqual([a.status_code for a in answers], [429, 429])
            self.assertNotIn("Idempotent-Replayed", answers[1])

    def test_a_429_is_not_kept_as_the_keys_answer(self) -> None:
        self.fail(LIMIT)
        self.assertEqual(self.post_with_key(self.good, "later").status_code, 429)
        with time_machine.travel(timezone.now() + timedelta(seconds=301)):
            answer = self.post_with_key(self.good, "later")
        self.assertEqual(answer.status_code, 201, answer.content)
        self.assertNotIn("Idempotent-Replayed", answer)
