"""A POST repeated with the same Idempotency-Key gets the first answer and creates nothing new."""

from datetime import timedelta
from unittest import mock

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from sustain.accounts import actions as accounts
from sustain.accounts.models import Organization, Role, User
from sustain.core.idempotency import idempotent_response
from sustain.core.models import IdempotencyRecord
from sustain.core.tasks import purge_idempotency_keys
from sustain.desk.models import Comment, Ticket
from tests.base import ApiClient, SustainTestCase
from tests.concurrency import RaceTestCase

URL = "/api/v1/tickets"
BODY = {"title": "Checkout returns 502", "organization": "acme", "impact": 1, "urgency": 1}


class IdempotencyKeyTests(SustainTestCase):
    def setUp(self):
        self.client_api = self.api(self.alice)

    def post(self, body=BODY, key="create-checkout-502", api=None):
        return (api or self.client_api).post(URL, body, headers={"Idempotency-Key": key})

    def test_a_repeat_returns_the_same_answer_and_creates_nothing(self):
        first = self.post()
        second = self.post()
        self.assertEqual(first.status_code, 201)
        self.assertEqual(second.status_code, 201)
        self.assertEqual(second.content, first.content)
        self.assertEqual(second["Idempotent-Replayed"], "true")
        self.assertFalse(first.has_header("Idempotent-Replayed"))
        self.assertEqual(Ticket.objects.count(), 1)

    def test_without_a_key_each_post_creates(self):
        self.client_api.post(URL, BODY)
        self.client_api.post(URL, BODY)
        self.assertEqual(Ticket.objects.count(), 2)

    def test_the_same_key_with_another_body_is_refused(self):
        self.post()
        response = self.post({**BODY, "title": "Something else"})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "Idempotency-Key")
        self.assertEqual(Ticket.objects.count(), 1)

    def test_the_same_key_on_another_endpoint_is_refused(self):
        ticket = Ticket.objects.get(key=self.post().json()["key"])
        response = self.client_api.post(
            f"{URL}/{ticket.key}/comments", BODY, headers={"Idempotency-Key": "create-checkout-502"}
        )
        self.assertEqual(response.status_code, 422)
        self.assertFalse(Comment.objects.exists())

    def test_keys_belong_to_their_caller(self):
        self.post()
        other = self.post(api=self.api(self.bob))
        self.assertEqual(other.status_code, 201)
        self.assertNotEqual(other.json()["key"], Ticket.objects.order_by("id").first().key)
        self.assertEqual(Ticket.objects.count(), 2)

    def test_two_tokens_of_one_user_keep_separate_keys(self):
        self.post()
        self.assertNotIn(
            "Idempotent-Replayed", self.post(api=ApiClient(self.token_for(self.alice)))
        )
        self.assertEqual(Ticket.objects.count(), 2)

    def test_a_refused_request_is_replayed_as_refused(self):
        bad = {**BODY, "organization": "nope"}
        first = self.post(bad, key="k-bad")
        again = self.post(bad, key="k-bad")
        self.assertEqual((first.status_code, again.status_code), (422, 422))
        self.assertEqual(first.content, again.content)

    def test_a_key_longer_than_200_characters_is_refused(self):
        response = self.post(key="k" * 201)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["errors"][0]["field"], "Idempotency-Key")
        self.assertFalse(Ticket.objects.exists())

    def test_unauthenticated_posts_are_not_recorded(self):
        response = Client().post(
            URL, BODY, content_type="application/json", headers={"Idempotency-Key": "anon"}
        )
        self.assertEqual(response.status_code, 401)
        self.assertFalse(IdempotencyRecord.objects.exists())

    def test_a_random_bearer_keeps_no_key(self):
        for n in range(3):
            response = Client().post(
                URL,
                BODY,
                content_type="application/json",
                headers={"Authorization": f"Bearer sus_random{n}", "Idempotency-Key": f"k{n}"},
            )
            self.assertEqual(response.status_code, 401)
        self.assertFalse(IdempotencyRecord.objects.exists())

    def test_a_server_error_rolls_back_the_write_and_keeps_no_key(self):
        api = ApiClient(self.token_for(self.alice))
        api.client.raise_request_exception = False
        # The ticket is written, then the similar-tickets lookup breaks: a 500 after the write.
        broken = RuntimeError("the search index is broken")
        with mock.patch("sustain.desk.api.suggest", side_effect=broken):
            failed = self.post(api=api)
        self.assertEqual(failed.status_code, 500)
        self.assertFalse(Ticket.objects.exists())
        self.assertFalse(IdempotencyRecord.objects.exists())
        retried = self.post(api=api)
        self.assertEqual(retried.status_code, 201)
        self.assertFalse(retried.has_header("Idempotent-Replayed"))
        self.assertEqual(Ticket.objects.count(), 1)

    def test_the_answer_is_stored_with_the_key(self):
        first = self.post()
        record = IdempotencyRecord.objects.get()
        self.assertEqual((record.status_code, bytes(record.body)), (201, first.content))


class PurgeTests(SustainTestCase):
    def test_keys_older_than_the_retention_are_purged(self):
        now = timezone.now()
        for hours in (1, 23, 25, 100):
            IdempotencyRecord.objects.create(
                principal="user:1",
                key=f"k{hours}",
                fingerprint="f",
                status_code=201,
                created_at=now - timedelta(hours=hours),
            )
        with self.settings(IDEMPOTENCY_RETENTION_HOURS=24):
            self.assertEqual(purge_idempotency_keys.call_local(), 2)
        self.assertEqual(
            sorted(IdempotencyRecord.objects.values_list("key", flat=True)), ["k1", "k23"]
        )


class ConcurrentKeyTests(RaceTestCase):
    """The same key sent several times at once (a client's retry racing its first try): one
    ticket, every answer the same. Real threads, on PostgreSQL and SQLite."""

    def test_the_same_key_at_once_creates_one_ticket(self):
        provider = Organization.objects.create(name="Provider", slug="provider", is_provider=True)
        Organization.objects.create(name="Acme", slug="acme")
        agent = User.objects.create_user(
            "agent@provider.test", None, name="Agent", organization=provider, role=Role.AGENT
        )
        token = accounts.create_token(None, agent)[1]
        answers = self.at_once(
            lambda i: Client().post(
                URL,
                BODY,
                content_type="application/json",
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "at-once"},
            )
        )
        self.assertEqual([a.status_code for a in answers], [201] * len(answers))
        self.assertEqual(len({a.content for a in answers}), 1)
        self.assertEqual(sum(not a.has_header("Idempotent-Replayed") for a in answers), 1)
        self.assertEqual(Ticket.objects.count(), 1)


class FailedStatementTests(SustainTestCase):
    """A view that answers after one of its statements failed (PostgreSQL then refuses every
    statement until a rollback): its answer is still stored, or, had it claimed success, the
    request is a 500 with nothing kept."""

    def view(self, status: int):
        def call():
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT CAST('x' AS integer)")  # fails on PostgreSQL
            except DatabaseError:
                pass
            return JsonResponse({"detail": "refused", "errors": []}, status=status)

        return call

    def request(self):
        return RequestFactory().post(
            URL, b"{}", content_type="application/json", headers={"Idempotency-Key": "k"}
        )

    def test_a_refusal_after_a_failed_statement_is_stored(self):
        response = idempotent_response(self.request(), "user:1", self.view(422))
        self.assertEqual(response.status_code, 422)
        self.assertEqual(IdempotencyRecord.objects.get().status_code, 422)

    def test_a_success_after_a_failed_statement_is_a_server_error(self):
        response = idempotent_response(self.request(), "user:1", self.view(201))
        if connection.vendor == "postgresql":
            self.assertEqual(response.status_code, 500)
            self.assertFalse(IdempotencyRecord.objects.exists())
        else:  # SQLite casts 'x' to 0: nothing failed
            self.assertEqual(response.status_code, 201)
