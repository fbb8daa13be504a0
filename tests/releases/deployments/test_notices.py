"""Customers told: one message per person and deployment, naming the bugs fixed for them; the
linked incidents noted and (by setting) resolved; other organizations never told."""

from __future__ import annotations

from django.core import mail
from django.test import override_settings

from sustain.accounts.models import User
from sustain.core.models import OutboxMessage
from sustain.desk.models import Comment, Status, Ticket
from sustain.notifications.models import Preferences
from sustain.releases.deployments import actions, notices
from tests.releases.deployments.base import DeploymentTestCase


class FixNoticeTests(DeploymentTestCase):
    def setUp(self):
        self.acme.customers_see_all_tickets = True
        self.acme.save()
        # cathy is Acme's contact for everything; carol reported the incident.
        Preferences.objects.create(user=self.cathy, organization_contact=True)
        self.incident = self.open_ticket(
            self.carol, title="Totals are off", affected_ci=self.acme_prod
        )
        self.bug_totals = self.bug("Invoice totals round the wrong way")
        self.link(self.bug_totals, self.incident)
        self.release_242 = self.release("2.4.2", fixes=(self.bug_totals,))
        self.flush_mail()

    def fix_notices(self):
        return [m for m in self.delivered() if m.extra_headers.get("X-Sustain-Deployment")]

    def test_the_contact_and_the_requester_get_one_message_each(self):
        deployment = self.deploy(self.release_242, self.acme_prod)
        sent = self.fix_notices()
        self.assertEqual(sorted(m.to[0] for m in sent), ["carol@acme.test", "cathy@acme.test"])
        message = next(m for m in sent if m.to == ["carol@acme.test"])
        self.assertIn("acme-prod", message.subject)
        self.assertIn("Invoice totals round the wrong way", message.body)
        self.assertIn("2.4.2", message.body)
        self.assertIn(f"/portal/environments/{self.acme_prod.pk}", message.body)
        html = message.alternatives[0][0]
        self.assertIn("Invoice totals round the wrong way", html)
        # The desk's reply and status mails are held back: the notice is the one message.
        self.assertEqual(
            sorted(m.to[0] for m in mail.outbox), ["carol@acme.test", "cathy@acme.test"]
        )
        keys = OutboxMessage.objects.filter(dedupe_key__startswith=f"fix-notice:{deployment.pk}:")
        self.assertEqual(keys.count(), 2)

    def test_a_person_who_is_both_contact_and_requester_gets_one_message(self):
        Preferences.objects.create(user=self.carol, organization_contact=True)
        self.deploy(self.release_242, self.acme_prod)
        sent = self.fix_notices()
        self.assertEqual(sorted(m.to[0] for m in sent), ["carol@acme.test", "cathy@acme.test"])

    def test_the_notice_is_never_doubled(self):
        deployment = self.deploy(self.release_242, self.acme_prod)
        deployment.refresh_from_db()
        # A second run (a retried worker, a replay) queues nothing new.
        notices.fix_deployed(deployment, self.version)
        self.assertEqual(len(self.fix_notices()), 2)

    def test_preferences_are_respected(self):
        Preferences.objects.filter(user=self.cathy).update(fix_deployed="off")
        Preferences.objects.create(user=self.carol, fix_deployed="digest")
        self.deploy(self.release_242, self.acme_prod)
        self.assertEqual(self.fix_notices(), [])
        self.assertTrue(self.carol.digest_items.filter(event="fix_deployed").exists())

    def test_the_incident_gets_a_public_note_and_is_resolved(self):
        self.deploy(self.release_242, self.acme_prod)
        self.incident.refresh_from_db()
        self.assertEqual(self.incident.status, Status.RESOLVED)
        note = Comment.objects.filter(ticket=self.incident, is_public=True).latest("id")
        self.assertIn(self.bug_totals.key, note.body)
        self.assertIn("reached acme-prod in version 2.4.2", note.body)

    @override_settings(RESOLVE_INCIDENTS_ON_FIX=False)
    def test_the_setting_off_keeps_the_incident_open_with_the_note(self):
        self.deploy(self.release_242, self.acme_prod)
        self.incident.refresh_from_db()
        self.assertNotEqual(self.incident.status, Status.RESOLVED)
        self.assertTrue(
            Comment.objects.filter(
                ticket=self.incident, body__contains="reached acme-prod"
            ).exists()
        )

    def test_an_incident_on_another_environment_waits_for_its_own_deployment(self):
        staging = self.environment(self.acme, "acme-staging", "2.4.1")
        self.deploy(self.release_242, staging)
        self.incident.refresh_from_db()
        self.assertEqual(self.incident.status, Status.NEW)
        # The contact still learns the fix reached staging; the requester waits for prod.
        self.assertEqual([m.to[0] for m in self.fix_notices()], ["cathy@acme.test"])

    def test_a_jump_across_releases_lists_every_fix_on_the_way(self):
        second = self.bug("Export drops the last row")
        third = self.bug("Search ignores accents")
        self.link(second, self.open_ticket(self.carol, title="Export broken"))
        self.link(third, self.open_ticket(self.carol, title="Search broken"))
        self.release("2.4.3", fixes=(second,))
        release_244 = self.release("2.4.4", fixes=(third,))
        self.deploy(release_244, self.acme_prod)  # 2.4.1 → 2.4.4
        sent = self.fix_notices()
        carol = next(m for m in sent if m.to == ["carol@acme.test"])
        for bug in (self.bug_totals, second, third):
            self.assertIn(bug.title, carol.body)
        self.assertEqual(len(sent), 2)
        resolved = Ticket.objects.filter(requester=self.carol, status=Status.RESOLVED)
        self.assertEqual(resolved.count(), 3)

    def test_a_fix_the_new_version_still_lacks_is_not_announced(self):
        """2.4.2 fixed it on 2.4; jumping to 2.5.0 (a line never fixed) does not deliver it."""
        self.line(self.bug_totals, "2.4", "fixed", fixed_version="2.4.2")
        self.line(self.bug_totals, "2.5", "affected")
        self.deploy(self.release("2.5.0"), self.acme_prod)
        self.assertEqual(self.fix_notices(), [])
        self.incident.refresh_from_db()
        self.assertEqual(self.incident.status, Status.NEW)

    def test_other_organizations_are_never_told(self):
        self.globex.customers_see_all_tickets = True
        self.globex.save()
        Preferences.objects.create(user=self.dave, organization_contact=True)
        globex_env = self.environment(self.globex, "globex-ledger", "2.4.1")
        self.deploy(self.release_242, globex_env)
        self.assertEqual(self.fix_notices(), [])  # the bug is Acme's, not Globex's
        self.incident.refresh_from_db()
        self.assertEqual(self.incident.status, Status.NEW)
        self.deploy(self.release_242, self.acme_prod)
        self.assertNotIn("dave@globex.test", [m.to[0] for m in self.fix_notices()])

    def test_a_bug_seen_on_the_environment_tells_the_contacts(self):
        seen = self.bug("Dashboard freezes", environment=self.acme_prod)
        release = self.release("2.4.3", fixes=(seen,))
        ConfigItem = type(self.acme_prod)
        ConfigItem.objects.filter(pk=self.acme_prod.pk).update(version=self.release_242.version)
        self.acme_prod.refresh_from_db()
        self.deploy(release, self.acme_prod)
        sent = self.fix_notices()
        self.assertEqual([m.to[0] for m in sent], ["cathy@acme.test"])
        self.assertIn("Dashboard freezes", sent[0].body)

    def test_no_message_without_a_fix_for_the_organization(self):
        self.deploy(self.release("2.4.3"), self.acme_prod)  # 2.4.2 and 2.4.3 both on the way
        self.flush_mail()
        self.deploy(self.release("2.4.5"), self.acme_prod)
        self.assertEqual(self.fix_notices(), [])

    def test_a_failed_or_rolled_back_deployment_tells_nobody(self):
        deployment = actions.schedule_deployment(
            self.alice, release=self.release_242, environment=self.acme_prod
        )
        deployment = actions.start_deployment(self.alice, deployment)
        actions.fail_deployment(self.alice, deployment, "disk full")
        self.assertEqual(self.fix_notices(), [])

    def test_deactivated_people_are_not_told(self):
        User.objects.filter(pk=self.carol.pk).update(is_active=False)
        self.deploy(self.release_242, self.acme_prod)
        self.assertEqual([m.to[0] for m in self.fix_notices()], ["cathy@acme.test"])
