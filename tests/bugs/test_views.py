"""The staff pages of the bug tracker: lists, triage queue, reporting, the bug page."""

from django.test import Client

from sustain.bugs import actions as bugs
from sustain.bugs.models import Bug, BugCommit, Status
from tests.bugs.base import BugTestCase


class BugPagesTests(BugTestCase):
    def setUp(self):
        self.client = Client()
        self.client.force_login(self.alice)

    def test_customers_are_refused_and_anonymous_sent_to_login(self):
        customer = Client()
        customer.force_login(self.carol)
        bug = self.bug()
        for path in ("/bugs/", "/bugs/triage", "/bugs/new", f"/bugs/b/{bug.key}"):
            self.assertEqual(customer.get(path).status_code, 403, path)
            self.assertEqual(Client().get(path).status_code, 302, path)

    def test_list_filters_and_searches(self):
        self.bug(title="Ledger crashes on import")
        self.bug(title="Typo on the invoice", severity="trivial")
        page = self.client.get("/bugs/", {"q": "crash"}).content.decode()
        self.assertIn("Ledger crashes on import", page)
        self.assertNotIn("Typo on the invoice", page)
        page = self.client.get("/bugs/", {"severity": "trivial"}).content.decode()
        self.assertIn("Typo on the invoice", page)
        response = self.client.get("/bugs/", {"order": "sideways"})
        self.assertEqual(response.status_code, 422)
        rows = self.client.get("/bugs/", {"q": "typo"}, headers={"HX-Request": "true"})
        self.assertNotIn("<html", rows.content.decode())

    def test_triage_queue_sorts_by_impact_and_shows_the_clock(self):
        quiet = self.bug(title="Quiet bug")
        loud = self.bug(title="Loud bug")
        bugs.link_ticket(self.alice, loud, self.open_ticket(self.carol))
        triaged = self.bug(title="Already triaged")
        bugs.transition(self.alice, triaged, Status.TRIAGED)
        page = self.client.get("/bugs/triage").content.decode()
        self.assertLess(page.index("Loud bug"), page.index("Quiet bug"))
        self.assertNotIn("Already triaged", page)
        self.assertIn("due in", page)
        self.assertIn(quiet.key, page)

    def test_report_a_bug_and_from_a_ticket(self):
        response = self.client.post(
            "/bugs/new",
            {
                "title": "Rounding on close",
                "product": self.product.pk,
                "severity": "major",
                "priority": "3",
                "affected_versions": "2.4.1, 2.4.2",
                "component": "Exports",
            },
        )
        bug = Bug.objects.get(title="Rounding on close")
        self.assertRedirects(response, f"/bugs/b/{bug.key}")
        self.assertEqual(bug.affected_versions.count(), 2)

        ticket = self.open_ticket(self.carol, title="Totals off", affected_ci=self.acme_prod)
        form = self.client.get("/bugs/new", {"ticket": ticket.key}).content.decode()
        self.assertIn('value="Totals off"', form)
        self.assertIn('value="2.4.1"', form)
        self.assertIn('hx-get="/similar/"', form)  # duplicate suggestions as the title is typed
        response = self.client.post(
            "/bugs/new",
            {"ticket": ticket.key, "title": "Totals off", "severity": "major", "priority": "3"},
        )
        from_ticket = Bug.objects.get(ticket_links__ticket=ticket)
        self.assertRedirects(response, f"/bugs/b/{from_ticket.key}")
        self.assertEqual(from_ticket.environment, self.acme_prod)
        ticket_page = self.client.get(f"/desk/t/{ticket.key}").content.decode()
        self.assertIn(from_ticket.key, ticket_page)
        self.assertIn(f"/bugs/new?ticket={ticket.key}", ticket_page)

    def test_report_refusals_show_on_the_form(self):
        response = self.client.post(
            "/bugs/new",
            {
                "title": "x",
                "product": self.product.pk,
                "severity": "major",
                "priority": "3",
                "affected_versions": "9.9.9",
            },
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("no version", response.content.decode())
        self.assertEqual(self.client.get("/bugs/new", {"ticket": "INC-99999"}).status_code, 404)

    def test_the_bug_page_shows_lines_incidents_commits_and_timeline(self):
        ticket = self.open_ticket(self.carol, affected_ci=self.acme_prod)
        bug = bugs.create_bug_from_ticket(self.alice, ticket)
        commit = self.commit(message="Fixes rounding\n\nFixes BUG-1")
        BugCommit.objects.create(bug=bug, commit=commit, kind="fixes", branch="main")
        bugs.mark_fixed_by_commit(self.alice, bug, commit, branch="main", line=(2, 4))
        bugs.add_comment(self.alice, bug, "Root cause: float")
        page = self.client.get(f"/bugs/b/{bug.key}").content.decode()
        for text in (
            ticket.key,
            "Fixes rounding",
            "aaaaaaaaaaaa",
            "Root cause: float",
            "2.4",
            "acme-prod",
            "fixed by a commit",
        ):
            self.assertIn(text, page)

    def test_in_place_controls(self):
        bug = self.bug()
        hx = {"HX-Request": "true"}
        base = f"/bugs/b/{bug.key}"
        response = self.client.post(f"{base}/status", {"status": "triaged"}, headers=hx)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["HX-Trigger"], "bug-changed")
        response = self.client.post(f"{base}/status", {"status": "closed"}, headers=hx)
        self.assertEqual(response.status_code, 422)
        self.assertIn("from triaged to closed", response.content.decode())
        self.client.post(f"{base}/assign", {"me": "on"}, headers=hx)
        self.client.post(f"{base}/classify", {"severity": "blocker", "priority": "1"}, headers=hx)
        self.client.post(f"{base}/comment", {"body": "noted", "is_public": "0"}, headers=hx)
        self.client.post(
            f"{base}/line",
            {"line": "2.4", "status": "fix_planned", "planned_version": "2.4.3"},
            headers=hx,
        )
        ticket = self.open_ticket(self.dave)
        self.client.post(f"{base}/link", {"ticket": ticket.key}, headers=hx)
        bug.refresh_from_db()
        self.assertEqual((bug.assignee, bug.team), (self.alice, self.service_desk))
        self.assertEqual((bug.severity, bug.priority), ("blocker", 1))
        self.assertEqual(bug.comments.get().body, "noted")
        self.assertEqual(bug.lines.get().planned_version, self.v["2.4.3"])
        self.assertEqual(bug.incident_count, 1)
        self.client.post(f"{base}/unlink", {"ticket": ticket.key}, headers=hx)
        bug.refresh_from_db()
        self.assertEqual(bug.incident_count, 0)
        response = self.client.post(
            f"{base}/edit",
            {"title": "Better title", "affected_versions": "2.5.0", "component": ""},
        )
        self.assertRedirects(response, base)
        bug.refresh_from_db()
        self.assertEqual(bug.title, "Better title")
        original = self.bug(title="The original")
        self.client.post(f"{base}/duplicate", {"original": original.key}, headers=hx)
        bug.refresh_from_db()
        self.assertEqual(bug.duplicate_of, original)
        self.assertEqual(self.client.get(f"{base}/status").status_code, 405)

    def test_attachments_download_for_staff_only(self):
        bug = self.bug()
        attachment = bugs.add_attachment(self.alice, bug, "trace.log", b"Traceback\n")
        response = self.client.get(f"/bugs/a/{attachment.pk}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b"".join(response.streaming_content), b"Traceback\n")
        customer = Client()
        customer.force_login(self.carol)
        self.assertEqual(customer.get(f"/bugs/a/{attachment.pk}").status_code, 404)

    def test_navigation_has_bugs_for_staff(self):
        self.assertIn('href="/bugs/"', self.client.get("/desk/").content.decode())


class BugAdminTests(BugTestCase):
    def test_the_admin_lists_bugs_and_triage_targets(self):
        self.bug(title="Listed in the admin")
        client = Client()
        client.force_login(self.root)
        page = client.get("/admin/bugs/bug/")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Listed in the admin", page.content.decode())
        self.assertEqual(client.get("/admin/bugs/triagetarget/").status_code, 200)
        self.assertEqual(client.get("/admin/bugs/repository/").status_code, 200)


class BugPageStatusAndFormTests(BugTestCase):
    def setUp(self):
        self.client = Client()
        self.client.force_login(self.alice)

    def test_the_status_menu_shows_labels(self):
        bug = self.bug()
        page = self.client.get(f"/bugs/b/{bug.key}").content.decode()
        self.assertIn('<option value="cannot_reproduce">Cannot reproduce</option>', page)
        self.assertIn('<option value="wont_fix">Won&#x27;t fix</option>', page)
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
