"""The product's own pages where Django would answer bare: 403, 404, 500 and the login
lock-out (saying until when), each with the navigation; a customer on a desk link lands on
the portal's view of the ticket; forms offer names, never ids or the provider as a customer."""

from __future__ import annotations

from django.test import Client, RequestFactory, override_settings
from django.views.defaults import server_error

from sustain.accounts.models import Organization
from tests.base import PASSWORD, SustainTestCase


class ErrorPagesTests(SustainTestCase):
    def client_for(self, user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def test_403_and_404_are_ours_with_the_navigation(self):
        forbidden = self.client_for(self.carol).get("/mail/")
        self.assertEqual(forbidden.status_code, 403)
        self.assertContains(forbidden, 'data-testid="error-403"', status_code=403)
        self.assertContains(forbidden, "My tickets", status_code=403)  # the portal's navigation
        missing = self.client_for(self.alice).get("/desk/t/INC-99999")
        self.assertContains(missing, 'data-testid="error-404"', status_code=404)
        self.assertContains(missing, "Queues", status_code=404)
        anonymous = Client().get("/no/such/page")
        self.assertContains(anonymous, "/no/such/page", status_code=404)
        self.assertContains(anonymous, 'href="/login/"', status_code=404)

    def test_500_renders_without_a_request_context(self):
        response = server_error(RequestFactory().get("/"))
        self.assertEqual(response.status_code, 500)
        html = response.content.decode()
        self.assertIn('data-testid="error-500"', html)
        self.assertIn('class="brand"', html)

    @override_settings(DEBUG=False)
    def test_a_crash_answers_with_our_500_page(self):
        from django.urls import path

        from sustain import urls

        def boom(request):
            raise RuntimeError("boom")

        urls.urlpatterns.append(path("boom-for-test", boom))
        try:
            client = Client(raise_request_exception=False)
            client.force_login(self.alice)
            response = client.get("/boom-for-test")
        finally:
            urls.urlpatterns.pop()
        self.assertContains(response, "Something went wrong on our side", status_code=500)

    def test_a_customer_on_a_desk_link_lands_on_the_portal_ticket(self):
        ticket = self.open_ticket()
        response = self.client_for(self.carol).get(f"/desk/t/{ticket.key}")
        self.assertRedirects(response, f"/portal/t/{ticket.key}")
        # Someone else's ticket: the portal decides, and answers as it does for any unknown key.
        dave = self.client_for(self.dave).get(f"/desk/t/{ticket.key}", follow=True)
        self.assertEqual(dave.status_code, 404)
        self.assertNotContains(dave, ticket.title, status_code=404)


class LockoutPageTests(SustainTestCase):
    def test_the_lock_out_page_says_until_when(self):
        client = Client()
        for _ in range(5):
            client.post("/login/", {"username": self.alice.email, "password": "wrong"})
        response = client.post("/login/", {"username": self.alice.email, "password": PASSWORD})
        self.assertEqual(response.status_code, 429)
        self.assertContains(response, 'data-testid="locked-out"', status_code=429)
        self.assertContains(response, "locked on this network until", status_code=429)
        self.assertContains(response, " UTC</time>", status_code=429)
        self.assertContains(response, 'class="brand"', status_code=429)


class NamesNotIdsTests(SustainTestCase):
    def client_for(self, user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def test_the_bug_form_picks_the_environment_by_name(self):
        page = self.client_for(self.alice).get("/bugs/new").content.decode()
        self.assertNotIn("Configuration item id", page)
        self.assertIn(f'<option value="{self.acme_prod.pk}">acme-prod · Acme</option>', page)

    def test_the_provider_is_not_offered_as_a_customer(self):
        provider = Organization.objects.get(is_provider=True)
        for path in ("/desk/new", "/desk/", "/environments/"):
            with self.subTest(path=path):
                page = self.client_for(self.alice).get(path).content.decode()
                self.assertIn("Acme", page)
                self.assertNotIn(f">{provider.name}</option>", page)

    def test_status_labels_are_cased_alike(self):
        from sustain.bugs.models import LineStatus, Status
        from sustain.releases.models import Deployment

        for choices in (Status, LineStatus, Deployment.Status):
            for label in choices.labels:
                self.assertEqual(label[0], label[0].upper(), label)
