"""Issue 11 point 8: the destructive moves ask first (htmx's hx-confirm, no inline script):
withdraw a release, roll back a deployment, renew a webhook secret, dismiss a held mail; the
harmless moves beside them do not."""

from __future__ import annotations

import re

from django.test import Client

from sustain.hooks.models import Subscription
from sustain.releases.deployments import actions as deployments
from tests.base import SustainTestCase
from tests.mail.test_review import ReviewCase
from tests.releases.deployments.base import DeploymentTestCase


def form_of(html: str, marker: str) -> str:
    """The opening tag of the form holding `marker` (a control's markup)."""
    before = html[: html.index(marker)]
    return before[before.rindex("<form") :].split(">", 1)[0]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class ReleaseAndDeploymentTests(DeploymentTestCase):
    def test_withdrawing_a_release_and_rolling_back_a_deployment_ask_first(self):
        release = self.release("2.4.2")
        done = deployments.succeed_deployment(
            self.alice,
            deployments.start_deployment(
                self.alice,
                deployments.schedule_deployment(
                    self.alice, release=release, environment=self.acme_prod
                ),
            ),
        )
        page = client_for(self.mia).get(f"/releases/{release.pk}").content.decode()
        self.assertIn('hx-confirm="Withdraw release 2.4.2?', form_of(page, 'value="withdrawn"'))
        page = client_for(self.alice).get(f"/environments/{self.acme_prod.pk}").content.decode()
        roll_back = re.search(r'<button[^>]*value="rolled_back"[^>]*>', page)
        assert roll_back is not None
        self.assertIn(f'hx-post="/environments/deployments/{done.pk}/transition"', roll_back[0])
        self.assertIn(f'hx-confirm="Roll back deployment {done.pk} of 2.4.2?', roll_back[0])


class WebhookSecretTests(SustainTestCase):
    def test_a_new_secret_asks_first_and_a_ping_does_not(self):
        hook = Subscription.objects.create(
            name="ci", url="https://receiver.example/hook", secret="s" * 32, owner=self.mia
        )
        page = client_for(self.mia).get(f"/webhooks/{hook.pk}").content.decode()
        secret = form_of(page, ">New secret<")
        self.assertIn('hx-boost="true"', secret)
        self.assertIn('hx-confirm="Make a new secret?', secret)
        self.assertNotIn("hx-confirm", form_of(page, ">Send a ping<"))


class HeldMailTests(ReviewCase):
    def test_dismissing_a_held_mail_asks_first_and_releasing_it_does_not(self):
        page = self.web(self.alice).get(f"/mail/{self.stranger.pk}").content.decode()
        self.assertIn('hx-confirm="Dismiss this mail?', form_of(page, "Dismiss (needs nothing)"))
        self.assertNotIn("hx-confirm", form_of(page, 'class="primary">Release<'))
