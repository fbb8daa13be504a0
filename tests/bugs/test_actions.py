"""Reporting and changing bugs: keys, fields, validation, assignment, comments, attachments."""

from sustain.bugs import actions as bugs
from sustain.bugs.models import Bug, BugLine, LineStatus, Severity, Status
from sustain.cmdb.models import ConfigItem
from sustain.core.errors import Forbidden, Invalid
from sustain.core.models import OutboxMessage
from tests.bugs.base import BugTestCase


class CreateBugTests(BugTestCase):
    def test_keys_come_from_the_bug_counter(self):
        first, second = self.bug(), self.bug(title="Second")
        number = int(first.key.split("-")[1])
        self.assertTrue(first.key.startswith("BUG-"))
        self.assertEqual(second.key, f"BUG-{number + 1}")

    def test_fields_are_kept_and_severity_apart_from_priority(self):
        bug = self.bug(
            description="Totals differ by a cent",
            steps_to_reproduce="1. export",
            expected_behaviour="100.00",
            actual_behaviour="100.01",
            component=self.component,
            severity=Severity.CRITICAL,
            priority=4,
            environment=self.acme_prod,
        )
        bug.refresh_from_db()
        self.assertEqual((bug.severity, bug.priority), ("critical", 4))
        self.assertEqual(bug.status, Status.NEW)
        self.assertEqual(bug.reporter, self.alice)
        self.assertEqual(bug.component, self.component)
        self.assertEqual(bug.environment, self.acme_prod)
        self.assertEqual(self.verbs(bug), ["created", "environment_changed"])

    def test_customers_cannot_report_bugs(self):
        with self.assertRaises(Forbidden):
            self.bug(self.carol)

    def test_bad_input_names_the_field(self):
        cases = [
            ({"title": "  "}, "title"),
            ({"title": "x" * 301}, "title"),
            ({"severity": "huge"}, "severity"),
            ({"priority": 7}, "priority"),
            ({"component": None, "affected_versions": [self.other_version]}, "affected_versions"),
            ({"assignee": self.carol}, "assignee"),
        ]
        for fields, field in cases:
            with self.subTest(field=field), self.assertRaises(Invalid) as caught:
                self.bug(**fields)
            self.assertEqual(caught.exception.errors[0]["field"], field)

    def test_the_component_must_be_of_the_product(self):
        from sustain.cmdb import actions as cmdb

        other = cmdb.add_component(self.root, self.other_product, name="Slips")
        with self.assertRaises(Invalid) as caught:
            self.bug(component=other)
        self.assertEqual(caught.exception.errors[0]["field"], "component")

    def test_an_agent_who_does_not_serve_the_environment_cannot_name_it(self):
        from sustain.accounts import actions as accounts

        sam = accounts.create_user(
            self.root,
            email="sam@northwind.test",
            name="Sam",
            organization=self.provider,
            role="agent",
            serves_all_organizations=False,
            served_organizations=[self.globex],
        )
        with self.assertRaises(Invalid) as caught:
            self.bug(sam, environment=self.acme_prod)
        self.assertEqual(caught.exception.errors[0]["field"], "environment")
        self.assertEqual(self.bug(sam, environment=self.globex_prod).environment, self.globex_prod)

    def test_affected_versions_open_one_row_per_release_line(self):
        bug = self.bug(affected_versions=[self.v["2.4.2"], self.v["2.4.1"], self.v["3.0.1"]])
        lines = {(bl.major, bl.minor): bl for bl in BugLine.objects.filter(bug=bug)}
        self.assertEqual(set(lines), {(2, 4), (3, 0)})
        self.assertEqual(lines[2, 4].introduced_in, self.v["2.4.1"])  # the lowest of the line
        self.assertEqual(lines[3, 0].introduced_in, self.v["3.0.1"])
        self.assertTrue(all(bl.status == LineStatus.AFFECTED for bl in lines.values()))

    def test_search_index_follows_creation_and_edits(self):
        from sustain.bugs.models import Bug

        bug = self.bug(title="Ledger freezes on quarterly close")
        found = Bug.search_index.filter(Bug.objects.all(), "quarterly")
        self.assertEqual(list(found), [bug])
        bugs.update_bug(self.alice, bug, title="Ledger freezes on yearly close")
        self.assertFalse(Bug.search_index.filter(Bug.objects.all(), "quarterly").exists())
        self.assertTrue(Bug.search_index.filter(Bug.objects.all(), "yearly").exists())


class UpdateBugTests(BugTestCase):
    def test_update_records_what_changed(self):
        bug = self.bug()
        bugs.update_bug(self.alice, bug, severity=Severity.BLOCKER, priority=1)
        bug.refresh_from_db()
        self.assertEqual((bug.severity, bug.priority), ("blocker", 1))
        from sustain.core.events import for_target

        event = for_target(bug).get(verb="updated")
        self.assertEqual(event.after, {"severity": "blocker", "priority": 1})

    def test_editing_the_texts_is_on_the_timeline(self):
        from django.test import Client

        from sustain.core.events import for_target

        bug = self.bug(description="Totals differ.")
        texts = {
            "description": "Totals differ by a cent.",
            "steps_to_reproduce": "1. Export",
            "expected_behaviour": "12.35",
            "actual_behaviour": "12.34",
        }
        bugs.update_bug(self.alice, bug, **texts)
        event = for_target(bug).get(verb="updated")
        self.assertEqual(event.after, texts)
        self.assertEqual(event.before["description"], "Totals differ.")
        self.assertEqual(event.before["steps_to_reproduce"], "")
        web = Client()
        web.force_login(self.alice)
        page = web.get(f"/bugs/b/{bug.key}")
        self.assertContains(page, "edited the bug: description changed, steps to reproduce changed")

    def test_unknown_fields_are_refused(self):
        with self.assertRaises(Invalid) as caught:
            bugs.update_bug(self.alice, self.bug(), status="fixed")
        self.assertEqual(caught.exception.errors[0]["field"], "status")

    def test_new_affected_versions_add_lines(self):
        bug = self.bug(affected_versions=[self.v["2.4.1"]])
        bugs.update_bug(self.alice, bug, affected_versions=[self.v["2.4.1"], self.v["2.5.0"]])
        self.assertEqual(
            sorted(BugLine.objects.filter(bug=bug).values_list("major", "minor")),
            [(2, 4), (2, 5)],
        )

    def test_changing_product_needs_the_new_products_versions(self):
        bug = self.bug(affected_versions=[self.v["2.4.1"]])
        with self.assertRaises(Invalid) as caught:
            bugs.update_bug(self.alice, bug, product=self.other_product)
        self.assertEqual(caught.exception.errors[0]["field"], "affected_versions")
        bugs.update_bug(
            self.alice, bug, product=self.other_product, affected_versions=[self.other_version]
        )
        bug.refresh_from_db()
        self.assertEqual(bug.product, self.other_product)


class AssignTests(BugTestCase):
    def test_assign_tells_the_assignee(self):
        bug = self.bug()
        bugs.assign(self.alice, bug, team=self.service_desk, assignee=self.bob)
        bug.refresh_from_db()
        self.assertEqual((bug.team, bug.assignee), (self.service_desk, self.bob))
        mails = OutboxMessage.objects.filter(kind="email", payload__to=[self.bob.email])
        self.assertEqual(mails.count(), 1)
        self.assertIn(bug.key, mails.get().payload["subject"])

    def test_only_agents_of_the_team(self):
        bug = self.bug()
        with self.assertRaises(Invalid):
            bugs.assign(self.alice, bug, assignee=self.carol)
        with self.assertRaises(Invalid):
            bugs.assign(self.alice, bug, team=self.service_desk, assignee=self.mia)


class CommentAndAttachmentTests(BugTestCase):
    def test_comments_are_internal_unless_public(self):
        bug = self.bug()
        note = bugs.add_comment(self.alice, bug, "Looks like float rounding")
        public = bugs.add_comment(self.alice, bug, "We found it", is_public=True)
        self.assertFalse(note.is_public)
        self.assertTrue(public.is_public)
        self.assertEqual(self.verbs(bug)[-2:], ["noted", "commented"])
        with self.assertRaises(Invalid):
            bugs.add_comment(self.alice, bug, "   ")
        with self.assertRaises(Forbidden):
            bugs.add_comment(self.carol, bug, "hello")

    def test_attachments_are_checked_like_ticket_attachments(self):
        bug = self.bug()
        attachment = bugs.add_attachment(self.alice, bug, "trace.log", b"Traceback ...\n")
        self.assertEqual(attachment.content_type, "text/plain")
        self.assertIn("attached", self.verbs(bug))
        with self.assertRaises(Invalid) as caught:
            bugs.add_attachment(self.alice, bug, "evil.exe", b"MZ\x90\x00" + b"\x00" * 100)
        self.assertEqual(caught.exception.errors[0]["field"], "file")

    def test_environment_event_belongs_to_its_organization(self):
        from sustain.core.events import for_target

        bug = self.bug(environment=self.acme_prod)
        event = for_target(bug).get(verb="environment_changed")
        self.assertEqual(event.organization_id, self.acme.pk)
        self.assertEqual(self.acme_prod.kind, ConfigItem.Kind.ENVIRONMENT)


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
