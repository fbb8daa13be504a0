"""Review findings on bug input: a comment's empty body is named `body` (not `payload`), and the
environment where a bug was seen must run the bug's product."""

from sustain.bugs.models import Bug
from sustain.core.errors import Invalid
from tests.bugs.base import BugTestCase


class CommentBodyFieldTests(BugTestCase):
    def test_an_empty_comment_names_body(self):
        bug = self.bug()
        response = self.api(self.alice).post(f"/api/v1/bugs/{bug.key}/comments", {"body": ""})
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual([e["field"] for e in response.json()["errors"]], ["body"])

    def test_a_missing_comment_body_names_body(self):
        bug = self.bug()
        response = self.api(self.alice).post(f"/api/v1/bugs/{bug.key}/comments", {})
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual([e["field"] for e in response.json()["errors"]], ["body"])

    def test_a_ticket_comment_names_body_too(self):
        response = self.api(self.alice).post(
            f"/api/v1/tickets/{self.open_ticket().key}/comments", {"body": ""}
        )
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual([e["field"] for e in response.json()["errors"]], ["body"])


class EnvironmentProductTests(BugTestCase):
    def test_an_environment_of_another_product_is_refused_on_create(self):
        with self.assertRaises(Invalid) as caught:
            self.bug(product=self.other_product, environment=self.acme_prod)
        self.assertEqual(caught.exception.errors[0]["field"], "environment")
        self.assertFalse(Bug.objects.filter(product=self.other_product).exists())

    def test_an_environment_of_another_product_is_refused_by_the_api(self):
        response = self.api(self.alice).post(
            "/api/v1/bugs",
            {
                "title": "Payslips blank",
                "product": self.other_product.slug,
                "environment": self.acme_prod.pk,
            },
        )
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual(response.json()["errors"][0]["field"], "environment")

    def test_an_environment_of_another_product_is_refused_on_update(self):
        bug = self.bug(product=self.other_product)
        response = self.api(self.alice).patch(
            f"/api/v1/bugs/{bug.key}", {"environment": self.acme_prod.pk}
        )
        self.assertEqual(response.status_code, 422, response.content)
        bug.refresh_from_db()
        self.assertIsNone(bug.environment_id)

    def test_the_environment_of_the_product_is_kept(self):
        bug = self.bug(environment=self.acme_prod)
        self.assertEqual(bug.environment, self.acme_prod)
