"""Issue 11, point 13: a held mail given a ticket and an organization that disagree is refused
at every door; the settings offer only languages Sustain has a translation for, and say the
time zone applies to the pages too."""

from __future__ import annotations

from django.test import Client

from sustain.accounts.models import User
from sustain.core.errors import Invalid
from sustain.mail import actions
from sustain.mail.models import InboundMail
from tests.mail.test_review import ReviewCase


class ContradictoryReleaseTests(ReviewCase):
    def test_the_action_refuses_a_ticket_and_another_organization(self):
        with self.assertRaises(Invalid) as caught:
            actions.release(self.alice, self.stranger, ticket=self.ticket, organization=self.globex)
        self.assertEqual(caught.exception.errors[0]["field"], "organization")
        self.assertIn(f"{self.ticket.key} belongs to Acme, not Globex", caught.exception.message)
        self.stranger.refresh_from_db()
        self.assertEqual(self.stranger.status, "held")
        self.assertFalse(User.objects.filter(email="sven@partner.test").exists())

    def test_the_page_shows_the_refusal_beside_the_organization_and_keeps_the_ticket(self):
        client = Client()
        client.force_login(self.alice)
        response = client.post(
            f"/mail/{self.stranger.pk}",
            {"ticket": self.ticket.key, "organization": self.globex.pk, "is_public": "on"},
        )
        self.assertEqual(response.status_code, 422)
        form = response.context["form"]
        self.assertIn("not both", " ".join(form.errors["organization"]))
        self.assertContains(response, f'value="{self.ticket.key}"', status_code=422)
        self.assertEqual(InboundMail.objects.get(pk=self.stranger.pk).status, "held")

    def test_the_api_refuses_it_too(self):
        response = self.api(self.alice).post(
            f"/api/v1/mail/inbound/{self.stranger.pk}/release",
            {"ticket": self.ticket.key, "organization": "globex"},
        )
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual(response.json()["errors"][0]["field"], "organization")

    def test_the_same_organization_is_no_contradiction(self):
        actions.release(self.alice, self.stranger, ticket=self.ticket, organization=self.acme)
        self.stranger.refresh_from_db()
        self.assertEqual(self.stranger.status, "appended")


class SettingsLanguageAndZoneTests(ReviewCase):
    def test_only_languages_with_a_catalogue_are_offered(self):
        client = Client()
        client.force_login(self.carol)
        page = client.get("/settings/notifications")
        language = page.context["form"].fields["language"]
        self.assertEqual([code for code, _ in language.choices], ["", "en"])
        self.assertNotContains(page, '<option value="de"')
        refused = client.post("/settings/notifications", {"language": "de", "digest_hour": 7})
        self.assertEqual(refused.status_code, 422)

    def test_the_time_zone_setting_says_it_applies_to_the_pages(self):
        client = Client()
        client.force_login(self.carol)
        page = client.get("/settings/notifications")
        self.assertContains(page, "Times on these pages and in your mail are shown in this zone")
