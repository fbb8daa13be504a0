"""Each person chooses, per event, an e-mail at once, the daily digest, or nothing; in the API
(/api/v1/me/notifications) and on the settings page."""

from __future__ import annotations

from django.test import Client

from sustain.core.errors import Forbidden, Invalid
from sustain.core.models import Event
from sustain.desk import actions as desk
from sustain.notifications import actions
from sustain.notifications.models import DigestItem, Preferences
from tests.notifications.test_rules import MailTestCase

PATH = "/api/v1/me/notifications"


class PreferencesApiTests(MailTestCase):
    def test_everything_comes_at_once_until_one_chooses(self):
        response = self.api(self.carol).get(PATH)
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["public_reply"], "immediate")
        self.assertEqual(body["sla_breached"], "immediate")
        self.assertEqual(
            (body["digest_hour"], body["organization_contact"], body["digest_waiting"]),
            (7, False, 0),
        )

    def test_choices_are_saved_and_only_the_fields_sent_change(self):
        client = self.api(self.carol)
        response = client.patch(
            PATH,
            {
                "public_reply": "digest",
                "status_changed": "off",
                "digest_hour": 18,
                "language": "en",
                "time_zone": "Europe/Berlin",
            },
        )
        self.assertEqual(response.status_code, 200, response.content)
        again = client.patch(PATH, {"ticket_created": "off"}).json()
        self.assertEqual(
            (again["public_reply"], again["status_changed"], again["ticket_created"]),
            ("digest", "off", "off"),
        )
        self.assertEqual((again["language"], again["time_zone"]), ("en", "Europe/Berlin"))
        self.carol.refresh_from_db()
        self.assertEqual((self.carol.language, self.carol.time_zone), ("en", "Europe/Berlin"))
        event = Event.objects.filter(verb="notifications_changed").last()
        self.assertEqual(event.after, {"ticket_created": "off"})

    def test_bad_values_are_refused_naming_the_field(self):
        client = self.api(self.carol)
        for body, field in (
            ({"public_reply": "sometimes"}, "public_reply"),
            ({"public_reply": None}, "public_reply"),
            ({"digest_hour": 24}, "digest_hour"),
            ({"time_zone": "Mars/Olympus"}, "time_zone"),
            ({"language": "xx"}, "language"),
            ({"language": "de"}, "language"),  # Django speaks German; Sustain has no catalogue
        ):
            with self.subTest(body=body):
                response = client.patch(PATH, body)
                self.assertEqual(response.status_code, 422, response.content)
                self.assertEqual(response.json()["errors"][0]["field"], field)
        self.assertFalse(Preferences.objects.exists())

    def test_a_customer_who_sees_only_their_own_tickets_cannot_follow_the_organization(self):
        self.acme.customers_see_all_tickets = False
        self.acme.save()
        response = self.api(self.carol).patch(PATH, {"organization_contact": True})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "organization_contact")

    def test_only_administrators_change_someone_elses(self):
        with self.assertRaises(Forbidden):
            actions.update_preferences(self.alice, self.carol, public_reply="off")
        actions.update_preferences(self.root, self.carol, public_reply="off")
        self.assertEqual(Preferences.objects.get(user=self.carol).public_reply, "off")
        with self.assertRaises(Invalid):
            actions.update_preferences(self.carol, self.carol, favourite_colour="blue")


class RoutingTests(MailTestCase):
    def setUp(self):
        self.ticket = self.open_ticket(self.carol, watchers=[self.cathy])
        self.sent()

    def test_off_means_no_mail(self):
        self.prefer(self.cathy, public_reply="off")
        desk.add_comment(self.alice, self.ticket, "On it.")
        self.assertEqual(self.to(), [self.carol.email])

    def test_digest_holds_the_notification_instead_of_mailing_it(self):
        self.prefer(self.cathy, public_reply="digest")
        desk.add_comment(self.alice, self.ticket, "On it.")
        self.assertEqual(self.to(), [self.carol.email])
        [item] = DigestItem.objects.all()
        self.assertEqual(
            (item.user, item.event, item.ticket), (self.cathy, "public_reply", self.ticket)
        )
        self.assertEqual(item.subject, f"Re: [{self.ticket.key}] {self.ticket.title}")
        self.assertIn("On it.", item.body)
        self.assertEqual(self.api(self.cathy).get(PATH).json()["digest_waiting"], 1)

    def test_a_preference_for_one_event_leaves_the_others_alone(self):
        self.prefer(self.cathy, public_reply="off")
        desk.transition(self.alice, self.ticket, "resolved")
        self.assertEqual(self.to(), [self.carol.email, self.cathy.email])

    def test_a_deactivated_user_is_told_nothing(self):
        self.cathy.is_active = False
        self.cathy.save()
        desk.add_comment(self.alice, self.ticket, "On it.")
        self.assertEqual(self.to(), [self.carol.email])


class SettingsPageTests(MailTestCase):
    def client_for(self, user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def form(self, **changes) -> dict:
        data = {
            "ticket_created": "immediate",
            "public_reply": "immediate",
            "status_changed": "immediate",
            "assigned": "immediate",
            "sla_warning": "immediate",
            "sla_breached": "immediate",
            "escalation": "immediate",
            "fix_deployed": "immediate",
            "digest_hour": "7",
            "language": "",
            "time_zone": "",
        }
        return {**data, **changes}

    def test_the_page_shows_and_saves_the_choices(self):
        client = self.client_for(self.carol)
        page = client.get("/settings/notifications")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "In the daily digest")
        self.assertContains(page, "every ticket of my organization")  # customers only
        self.assertNotContains(page, "SLA breached")  # agents only
        saved = client.post(
            "/settings/notifications",
            self.form(public_reply="digest", organization_contact="on", time_zone="Asia/Tokyo"),
        )
        self.assertRedirects(saved, "/settings/notifications")
        prefs = Preferences.objects.get(user=self.carol)
        self.assertEqual((prefs.public_reply, prefs.organization_contact), ("digest", True))
        self.carol.refresh_from_db()
        self.assertEqual(self.carol.time_zone, "Asia/Tokyo")

    def test_agents_do_not_get_the_organization_choice(self):
        page = self.client_for(self.alice).get("/settings/notifications")
        self.assertNotContains(page, "every ticket of my organization")
        self.assertContains(page, "SLA breached")

    def test_a_bad_choice_shows_the_form_again(self):
        client = self.client_for(self.carol)
        response = client.post("/settings/notifications", self.form(public_reply="sometimes"))
        self.assertEqual(response.status_code, 422)
        self.assertFalse(Preferences.objects.exists())

    def test_signed_out_visitors_go_to_the_login(self):
        response = Client().get("/settings/notifications")
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith("/login/"))
