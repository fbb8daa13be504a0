"""Staff environment pages and the customer portal's environments."""

from __future__ import annotations

import re

from django.template import Context, Template
from django.test import Client, RequestFactory

from sustain.releases.models import Deployment
from tests.releases.deployments.base import DeploymentTestCase


class PageTestCase(DeploymentTestCase):
    def client_for(self, user):
        client = Client()
        client.force_login(user)
        return client

    def setUp(self):
        self.bug_totals = self.bug("Invoice totals round the wrong way")
        self.link(self.bug_totals, self.open_ticket(self.carol))
        self.release_242 = self.release("2.4.2", fixes=(self.bug_totals,))
        self.release_242.customer_notes = (
            "## Ledger 2.4.2\n\n- Totals *round* right <script>alert(1)</script>"
        )
        self.release_242.save()
        self.globex_ledger = self.environment(self.globex, "globex-ledger", "2.4.1")


class PortalTests(PageTestCase):
    def test_customers_see_their_environments_and_updates(self):
        page = self.client_for(self.carol).get("/portal/environments/")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "Your environments")
        self.assertContains(page, "acme-prod")
        self.assertContains(page, "2.4.1")
        self.assertContains(page, "fixes 1 problem you reported")
        self.assertNotContains(page, "globex-ledger")

    def test_an_environment_page_shows_updates_and_sanitized_notes(self):
        page = self.client_for(self.carol).get(f"/portal/environments/{self.acme_prod.pk}")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "Available updates")
        self.assertContains(page, "Invoice totals round the wrong way")
        self.assertContains(page, "<em>round</em>", html=False)
        self.assertNotContains(page, "<script>alert(1)</script>", html=False)
        self.assertContains(page, "1 for problem you reported")

    def test_other_organizations_environments_are_404(self):
        page = self.client_for(self.carol).get(f"/portal/environments/{self.globex_ledger.pk}")
        self.assertEqual(page.status_code, 404)

    def test_signed_out_visitors_go_to_the_login(self):
        page = Client().get("/portal/environments/")
        self.assertEqual(page.status_code, 302)


class StaffPageTests(PageTestCase):
    def test_the_list_shows_versions_and_how_far_behind(self):
        page = self.client_for(self.alice).get("/environments/")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "acme-prod")
        self.assertContains(page, "globex-ledger")
        self.assertContains(page, "1 release")
        filtered = self.client_for(self.alice).get("/environments/", {"organization": "globex"})
        self.assertNotContains(filtered, "acme-prod")

    def test_customers_are_refused(self):
        self.assertEqual(self.client_for(self.carol).get("/environments/").status_code, 403)

    def test_schedule_start_and_succeed_with_htmx(self):
        client = self.client_for(self.alice)
        page = client.get(f"/environments/{self.acme_prod.pk}")
        self.assertContains(page, "Pending updates")
        self.assertContains(page, "Schedule deployment")
        htmx = {"HX-Request": "true"}
        scheduled = client.post(
            f"/environments/{self.acme_prod.pk}/deploy",
            {"release": self.release_242.pk, "note": "tonight"},
            headers=htmx,
        )
        self.assertEqual(scheduled.status_code, 200)
        self.assertContains(scheduled, "tonight")
        deployment = Deployment.objects.get()
        for status in ("in_progress", "succeeded"):
            moved = client.post(
                f"/environments/deployments/{deployment.pk}/transition",
                {"status": status},
                headers=htmx,
            )
            self.assertEqual(moved.status_code, 200)
        self.assertContains(moved, "Succeeded")
        self.acme_prod.refresh_from_db()
        self.assertEqual(self.acme_prod.version.name, "2.4.2")

    def test_a_refused_move_shows_why(self):
        client = self.client_for(self.alice)
        client.post(f"/environments/{self.acme_prod.pk}/deploy", {"release": self.release_242.pk})
        deployment = Deployment.objects.get()
        refused = client.post(
            f"/environments/deployments/{deployment.pk}/transition",
            {"status": "rolled_back"},
            headers={"HX-Request": "true"},
        )
        self.assertEqual(refused.status_code, 422)
        self.assertContains(refused, "cannot go from scheduled to rolled_back", status_code=422)


class TemplateTagTests(PageTestCase):
    def render(self, text, user, **context):
        request = RequestFactory().get("/")
        request.user = user
        return Template("{% load installbase %}" + text).render(
            Context({"request": request, **context})
        )

    def test_bug_install_base_panel(self):
        bug = self.bug("Crash on save", affected=("2.4.1",))
        html = self.render("{% bug_install_base bug %}", self.alice, bug=bug)
        self.assertIn("acme-prod", html)
        self.assertIn("globex-ledger", html)
        self.assertIn("No release carrying the fix", html)

    def test_release_deployments_panel(self):
        self.deploy(self.release_242, self.acme_prod)
        html = self.render(
            "{% release_deployments release %}", self.alice, release=self.release_242
        )
        self.assertIn("acme-prod", html)
        self.assertIn("succeeded", html.lower())


class DeploymentAnswerTests(PageTestCase):
    def test_success_refreshes_the_version_and_the_pending_updates(self):
        client = self.client_for(self.alice)
        htmx = {"HX-Request": "true"}
        before = client.get(f"/environments/{self.acme_prod.pk}").content.decode()
        self.assertIn("Ledger 2.4.2", before)
        client.post(
            f"/environments/{self.acme_prod.pk}/deploy",
            {"release": self.release_242.pk},
            headers=htmx,
        )
        deployment = Deployment.objects.get()
        for status in ("in_progress", "succeeded"):
            moved = client.post(
                f"/environments/deployments/{deployment.pk}/transition",
                {"status": status},
                headers=htmx,
            )
        self.assertEqual(moved.status_code, 200)
        body = moved.content.decode()
        version = re.search(r'<dd id="environment-version" hx-swap-oob="true">([^<]*)</dd>', body)
        self.assertIsNotNone(version, body)
        self.assertEqual(version.group(1), "2.4.2")
        pending = body[body.index('id="pending-updates" hx-swap-oob="true"') :]
        self.assertNotIn("Ledger 2.4.2", pending)
        self.assertIn("Up to date", pending)


class PortalEnvironmentKindTests(PageTestCase):
    def test_an_item_that_runs_no_product_is_no_environment(self):
        from sustain.cmdb import actions as cmdb
        from sustain.cmdb.models import ConfigItem

        server = cmdb.create_config_item(
            self.root, organization=self.acme, name="acme-db-01", kind=ConfigItem.Kind.SERVER
        )
        client = self.client_for(self.carol)
        self.assertEqual(client.get(f"/portal/environments/{server.pk}").status_code, 404)
        self.assertEqual(client.get(f"/portal/environments/{self.acme_prod.pk}").status_code, 200)


class SupersededRollbackPageTests(DeploymentTestCase):
    def test_only_the_standing_deployment_offers_a_roll_back(self):
        from django.test import Client

        self.deploy(self.release("2.4.2"), self.acme_prod)
        self.deploy(self.release("2.4.3"), self.acme_prod)
        client = Client()
        client.force_login(self.alice)
        page = client.get(f"/environments/{self.acme_prod.pk}").content.decode()
        self.assertEqual(page.count('value="rolled_back"'), 1)
