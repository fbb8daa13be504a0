"""Review finding: a superseded deployment cannot be rolled back, even when a later deployment
put the same version back (2.4.1 → 2.4.2, → 2.4.3, → 2.4.2 again: rolling back the first would
send the environment to 2.4.1 behind the later ones' backs)."""

from __future__ import annotations

from sustain.core.errors import Conflict
from sustain.releases.deployments import actions
from tests.releases.deployments.base import DeploymentTestCase


class SupersededRollbackTests(DeploymentTestCase):
    def test_a_superseded_deployment_of_the_running_version_is_refused(self):
        r242, r243 = self.release("2.4.2"), self.release("2.4.3")
        first = self.deploy(r242, self.acme_prod)
        self.deploy(r243, self.acme_prod)
        again = self.deploy(r242, self.acme_prod)
        with self.assertRaises(Conflict) as caught:
            actions.roll_back_deployment(self.alice, first, "oops")
        self.assertIn(f"Deployment {again.pk}", caught.exception.message)
        self.acme_prod.refresh_from_db()
        self.assertEqual(self.acme_prod.version.name, "2.4.2")
        first.refresh_from_db()
        self.assertEqual(first.status, "succeeded")

    def test_the_latest_one_rolls_back_and_then_the_one_before(self):
        r242, r243 = self.release("2.4.2"), self.release("2.4.3")
        first = self.deploy(r242, self.acme_prod)
        second = self.deploy(r243, self.acme_prod)
        actions.roll_back_deployment(self.alice, second, "Reports broke")
        self.acme_prod.refresh_from_db()
        self.assertEqual(self.acme_prod.version.name, "2.4.2")
        actions.roll_back_deployment(self.alice, first, "Totals broke too")
        self.acme_prod.refresh_from_db()
        self.assertEqual(self.acme_prod.version.name, "2.4.1")


class SupersededRollbackPageTests(DeploymentTestCase):
    def test_only_the_standing_deployment_offers_a_roll_back(self):
        from django.test import Client

        self.deploy(self.release("2.4.2"), self.acme_prod)
        self.deploy(self.release("2.4.3"), self.acme_prod)
        client = Client()
        client.force_login(self.alice)
        page = client.get(f"/environments/{self.acme_prod.pk}").content.decode()
        self.assertEqual(page.count('value="rolled_back"'), 1)
