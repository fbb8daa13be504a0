"""Review finding: a deployment moved with htmx swaps the deployments card, and the version and
pending updates on the same page follow (out of band) instead of going stale."""

from __future__ import annotations

import re

from sustain.releases.models import Deployment
from tests.releases.deployments.test_pages import PageTestCase


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


class PortalEnvironmentReviewTests(PageTestCase):
    def test_an_item_that_runs_no_product_is_no_environment(self):
        from sustain.cmdb import actions as cmdb
        from sustain.cmdb.models import ConfigItem

        server = cmdb.create_config_item(
            self.root, organization=self.acme, name="acme-db-01", kind=ConfigItem.Kind.SERVER
        )
        client = self.client_for(self.carol)
        self.assertEqual(client.get(f"/portal/environments/{server.pk}").status_code, 404)
        self.assertEqual(client.get(f"/portal/environments/{self.acme_prod.pk}").status_code, 200)
