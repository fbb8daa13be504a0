"""The bug API: staff read and write everything; customers read the bugs that hit them."""

from sustain.bugs import actions as bugs
from sustain.bugs.models import Bug, Status
from tests.bugs.base import BugTestCase


class BugApiTests(BugTestCase):
    def setUp(self):
        self.staff = self.api(self.alice)

    def create(self, **body):
        body.setdefault("title", "Export totals rounded twice")
        body.setdefault("product", self.product.slug)
        return self.staff.post("/api/v1/bugs", body)

    def test_create_answers_the_bug_and_similar_ones(self):
        self.bug(title="Export totals are rounded twice on close")
        response = self.create(
            severity="critical",
            priority=2,
            component="Exports",
            affected_versions=["2.4.1"],
            environment=self.acme_prod.pk,
            assignee=self.bob.email,
            team=self.service_desk.slug,
        )
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertTrue(body["key"].startswith("BUG-"))
        self.assertEqual(body["severity"], "critical")
        self.assertEqual(body["priority"], 2)
        self.assertEqual(body["component"], "Exports")
        self.assertEqual(body["affected_versions"], ["2.4.1"])
        self.assertEqual(body["environment"], self.acme_prod.pk)
        self.assertEqual(body["assignee"], self.bob.email)
        self.assertEqual(body["lines"][0]["line"], "2.4")
        self.assertIsNotNone(body["triage_due_at"])
        self.assertIn("similar", body)
        self.assertNotIn(body["key"], [s["key"] for s in body["similar"]])

    def test_bad_references_name_the_field(self):
        cases = [
            ({"product": "nope"}, "product"),
            ({"component": "Nope"}, "component"),
            ({"affected_versions": ["9.9.9"]}, "affected_versions"),
            ({"environment": 99999999}, "environment"),
            ({"assignee": "nobody@x.test"}, "assignee"),
            ({"severity": "huge"}, "severity"),
            ({"priority": 9}, "priority"),
        ]
        for body, field in cases:
            with self.subTest(field=field):
                response = self.create(**body)
                self.assertEqual(response.status_code, 422, response.content)
                self.assertEqual(response.json()["errors"][0]["field"], field)
        self.assertFalse(Bug.objects.exists())

    def test_get_patch_and_transition(self):
        key = self.create().json()["key"]
        got = self.staff.get(f"/api/v1/bugs/{key.lower()}").json()
        self.assertEqual(got["key"], key)
        self.assertIn("assignee", got)  # the staff shape
        self.assertIn("lines", self.staff.get("/api/v1/bugs").json()["results"][0])
        response = self.staff.patch(
            f"/api/v1/bugs/{key}", {"severity": "blocker", "assignee": self.bob.email}
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["severity"], "blocker")
        self.assertEqual(response.json()["assignee"], self.bob.email)
        response = self.staff.patch(f"/api/v1/bugs/{key}", {"title": None})
        self.assertEqual(response.status_code, 422)
        response = self.staff.post(f"/api/v1/bugs/{key}/transition", {"status": "verified"})
        self.assertEqual(response.status_code, 409)
        self.assertIn("from new to verified", response.json()["detail"])
        response = self.staff.post(f"/api/v1/bugs/{key}/transition", {"status": "triaged"})
        self.assertEqual(response.json()["status"], "triaged")
        self.assertEqual(self.staff.get("/api/v1/bugs/BUG-1").status_code, 404)

    def test_reopen_with_a_version_through_the_api(self):
        key = self.create().json()["key"]
        for status in ("fixed", "verified", "closed"):
            self.staff.post(f"/api/v1/bugs/{key}/transition", {"status": status})
        response = self.staff.post(
            f"/api/v1/bugs/{key}/transition", {"status": "triaged", "version": "2.4.3"}
        )
        body = response.json()
        self.assertTrue(body["is_regression"])
        self.assertEqual(body["regressed_in"], "2.4.3")
        response = self.staff.post(
            f"/api/v1/bugs/{key}/transition", {"status": "fixed", "version": "7.7.7"}
        )
        self.assertEqual(response.json()["errors"][0]["field"], "version")

    def test_list_filters_search_and_orders(self):
        a = self.bug(title="Ledger crashes on import", severity="blocker")
        b = self.bug(title="Typo on the invoice", severity="trivial")
        bugs.link_ticket(self.alice, b, self.open_ticket(self.carol))
        bugs.transition(self.alice, a, Status.TRIAGED)

        def keys(**params):
            response = self.staff.get("/api/v1/bugs", **params)
            self.assertEqual(response.status_code, 200, response.content)
            return [r["key"] for r in response.json()["results"]]

        self.assertEqual(keys(), [b.key, a.key])
        self.assertEqual(keys(q="crash"), [a.key])
        self.assertEqual(keys(severity="trivial"), [b.key])
        self.assertEqual(keys(status="triaged"), [a.key])
        self.assertEqual(keys(triage="true"), [b.key])
        self.assertEqual(keys(order="impact"), [b.key, a.key])
        self.assertEqual(keys(product=self.product.slug, order="oldest"), [a.key, b.key])
        self.assertEqual(keys(regression="true"), [])
        self.assertEqual(keys(assignee="none", limit=1), [b.key])
        response = self.staff.get("/api/v1/bugs", order="sideways")
        self.assertEqual(response.json()["errors"][0]["field"], "order")

    def test_comments_attachments_tickets_lines_and_timeline(self):
        key = self.create(affected_versions=["2.4.1"]).json()["key"]
        base = f"/api/v1/bugs/{key}"
        response = self.staff.post(f"{base}/comments", {"body": "Root cause found"})
        self.assertEqual(response.status_code, 201)
        self.assertFalse(response.json()["is_public"])
        upload = self.staff.client.post(
            f"{base}/attachments",
            {"file": _file("trace.log", b"Traceback\n")},
            headers=self.staff.headers,
        )
        self.assertEqual(upload.status_code, 201, upload.content)
        self.assertEqual(len(self.staff.get(f"{base}/attachments").json()), 1)
        ticket = self.open_ticket(self.carol, affected_ci=self.acme_prod)
        response = self.staff.post(f"{base}/tickets", {"ticket": ticket.key})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["organization"], "acme")
        self.assertEqual(
            self.staff.post(f"{base}/tickets", {"ticket": ticket.key}).status_code, 409
        )
        self.assertEqual(self.staff.get(f"{base}").json()["incident_count"], 1)
        response = self.staff.client.put(
            f"{base}/lines",
            '{"major": 2, "minor": 4, "status": "fixed", "fixed_version": "2.4.2"}',
            content_type="application/json",
            headers=self.staff.headers,
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()[0]["fixed_version"], "2.4.2")
        self.assertEqual(self.staff.get(base).json()["fixed_in"], ["2.4.2"])
        timeline = self.staff.get(f"{base}/timeline").json()["results"]
        verbs = [item["verb"] for item in timeline]
        self.assertEqual(verbs[0], "created")
        self.assertIn("ticket_linked", verbs)
        self.assertEqual(
            next(i for i in timeline if i["verb"] == "noted")["body"], "Root cause found"
        )
        response = self.staff.delete(f"{base}/tickets/{ticket.key}")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json(), [])

    def test_duplicate_endpoint(self):
        original = self.bug()
        key = self.create().json()["key"]
        response = self.staff.post(f"/api/v1/bugs/{key}/duplicate", {"original": original.key})
        self.assertEqual(response.json()["duplicate_of"], original.key)
        response = self.staff.post(f"/api/v1/bugs/{key}/duplicate", {"original": "BUG-77777"})
        self.assertEqual(response.json()["errors"][0]["field"], "original")

    def test_bug_from_ticket_and_bugs_of_a_ticket(self):
        ticket = self.open_ticket(self.carol, affected_ci=self.acme_prod, title="Totals wrong")
        response = self.staff.post(f"/api/v1/tickets/{ticket.key}/bug", {"severity": "major"})
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(body["title"], "Totals wrong")
        self.assertEqual(body["affected_versions"], ["2.4.1"])
        listed = self.staff.get(f"/api/v1/tickets/{ticket.key}/bugs").json()
        self.assertEqual([b["key"] for b in listed], [body["key"]])
        plain = self.open_ticket(self.carol)
        response = self.staff.post(f"/api/v1/tickets/{plain.key}/bug", {})
        self.assertEqual(response.json()["errors"][0]["field"], "product")


class CustomerApiTests(BugTestCase):
    def setUp(self):
        self.ticket = self.open_ticket(self.carol, affected_ci=self.acme_prod)
        self.mine = bugs.create_bug_from_ticket(self.alice, self.ticket, assignee=self.bob)
        bugs.add_comment(self.alice, self.mine, "internal 4711")
        bugs.add_comment(self.alice, self.mine, "public 4712", is_public=True)
        bugs.set_line_status(
            self.alice, self.mine, major=2, minor=4, status="fixed", fixed_version=self.v["2.4.2"]
        )
        self.theirs = self.bug(title="Globex only")
        bugs.link_ticket(self.alice, self.theirs, self.open_ticket(self.dave))
        self.seen_here = self.bug(title="Seen on our environment", environment=self.acme_prod)
        self.carol_api = self.api(self.carol)

    def test_customers_list_only_bugs_that_hit_them_in_their_shape(self):
        rows = self.carol_api.get("/api/v1/bugs").json()["results"]
        self.assertEqual({r["key"] for r in rows}, {self.mine.key, self.seen_here.key})
        row = next(r for r in rows if r["key"] == self.mine.key)
        self.assertEqual(
            set(row),
            {
                "key",
                "title",
                "status",
                "status_words",
                "severity",
                "product",
                "fixed_in",
                "created_at",
                "updated_at",
            },
        )
        self.assertEqual(row["fixed_in"], ["2.4.2"])
        self.assertNotIn("assignee", self.carol_api.get(f"/api/v1/bugs/{self.mine.key}").json())
        self.assertEqual(self.carol_api.get(f"/api/v1/bugs/{self.theirs.key}").status_code, 404)

    def test_customers_read_public_comments_only_and_write_nothing(self):
        comments = self.carol_api.get(f"/api/v1/bugs/{self.mine.key}/comments").json()
        self.assertEqual([c["body"] for c in comments["results"]], ["public 4712"])
        timeline = self.carol_api.get(f"/api/v1/bugs/{self.mine.key}/timeline").content.decode()
        self.assertNotIn("internal 4711", timeline)
        self.assertEqual(self.carol_api.get(f"/api/v1/bugs/{self.mine.key}/lines").json(), [])
        response = self.carol_api.post(f"/api/v1/bugs/{self.mine.key}/comments", {"body": "hi"})
        self.assertEqual(response.status_code, 403)
        response = self.carol_api.post("/api/v1/bugs", {"title": "x", "product": self.product.slug})
        self.assertEqual(response.status_code, 403)
        bugs_of_ticket = self.carol_api.get(f"/api/v1/tickets/{self.ticket.key}/bugs").json()
        self.assertEqual([b["key"] for b in bugs_of_ticket], [self.mine.key])
        self.assertNotIn("assignee", bugs_of_ticket[0])


def _file(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, "text/plain")


class QueryCountTests(BugTestCase):
    def test_list_queries_do_not_grow_with_the_page(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        staff = self.api(self.alice)
        staff.get("/api/v1/bugs")  # the token's "last used" stamp is written once a minute

        def count():
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(staff.get("/api/v1/bugs").status_code, 200)
            return len(queries)

        few = None
        for i in range(7):
            bug = self.bug(
                title=f"Bug {i}",
                component=self.component,
                team=self.service_desk,
                assignee=self.bob,
                affected_versions=[self.v["2.4.1"], self.v["3.0.0"]],
                environment=self.acme_prod,
            )
            bugs.set_line_status(
                self.alice, bug, major=2, minor=4, status="fixed", fixed_version=self.v["2.4.2"]
            )
            few = few or count()  # one fully linked bug, then seven
        self.assertEqual(count(), few)


class BugCommentBodyFieldTests(BugTestCase):
    def test_an_empty_comment_names_body(self):
        bug = self.bug()
        response = self.api(self.alice).post(f"/api/v1/bugs/{bug.key}/comments", {"body": ""})
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual([e["field"] for e in response.json()["errors"]], ["body"])

    def test_a_missing_comment_body_names_body(self):
        bug = self.bug()
        response = self.api(self.alice).post(f"/api/v1/bugs/{bug.key}/comments", {})
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual([e["field"] for e in response.json()["errors"]], ["body"])
