"""Review findings on the bug page: the status menu speaks words, not stored values; the web
form refuses an environment of another product with the field named."""

from django.test import Client

from sustain.bugs.models import Bug
from tests.bugs.base import BugTestCase


class BugPageReviewTests(BugTestCase):
    def setUp(self):
        self.client = Client()
        self.client.force_login(self.alice)

    def test_the_status_menu_shows_labels(self):
        bug = self.bug()
        page = self.client.get(f"/bugs/b/{bug.key}").content.decode()
        self.assertIn('<option value="cannot_reproduce">cannot reproduce</option>', page)
        self.assertIn('<option value="wont_fix">won&#x27;t fix</option>', page)
        self.assertNotIn(">wont_fix<", page)

    def test_new_bug_with_an_environment_of_another_product(self):
        response = self.client.post(
            "/bugs/new",
            {
                "title": "Payslips blank",
                "product": self.other_product.pk,
                "severity": "major",
                "priority": 3,
                "environment": self.acme_prod.pk,
            },
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("runs another product", response.content.decode())
        self.assertFalse(Bug.objects.filter(title="Payslips blank").exists())
