"""A POST repeated with the same Idempotency-Key gets the first answer and creates nothing new."""

from django.test import Client

from sustain.core.models import IdempotencyRecord
from sustain.desk.models import Comment, Ticket
from tests.base import ApiClient, SustainTestCase

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
