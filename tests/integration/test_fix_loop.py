"""The whole loop of issue 5, without a human step, through the doors a real setup uses:

an incident (API) → a bug created from it (API) → a commit `Fixes BUG-n` seen by a signed
GitHub push webhook → the bug in a patch release with generated notes → tests reported by CI
(API) → approved → deployed to the customer's environment → the customer's contact receives
the mail naming the fix over real SMTP, and the incident is resolved.
"""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import socket
from email.message import Message

from aiosmtpd.controller import Controller
from django.test import override_settings

from sustain.bugs.models import Bug, BugLine, LineStatus
from sustain.cmdb import actions as cmdb
from sustain.core import outbox
from sustain.desk.models import Status as TicketStatus
from sustain.desk.models import Ticket
from sustain.notifications.models import Preferences
from tests.base import SustainTestCase

SECRET = "a-long-webhook-secret-for-tests"


class Sink:
    """An SMTP server on 127.0.0.1 that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls it by this name
        message = email.message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def body_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return ""


class FixLoopTest(SustainTestCase):
    def setUp(self) -> None:
        self.sink = Sink()
        port = free_port()
        self.smtp = Controller(self.sink, hostname="127.0.0.1", port=port)
        self.smtp.start()
        self.addCleanup(self.smtp.stop)
        mail = override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
        )
        mail.enable()
        self.addCleanup(mail.disable)
        # Cathy is Acme's contact for everything that happens to the organization.
        Preferences.objects.update_or_create(
            user=self.cathy, defaults={"organization_contact": True}
        )

    def deliver(self) -> None:
        """The worker's step: send whatever the outbox holds (it retries what fails)."""
        while outbox.deliver_due():
            pass

    def push(self, repository_id: int, branch: str, sha: str, message: str):
        body = json.dumps(
            {
                "ref": f"refs/heads/{branch}",
                "before": "0" * 40,
                "after": sha,
                "commits": [
                    {
                        "id": sha,
                        "message": message,
                        "timestamp": "2026-11-27T09:00:00+01:00",
                        "url": f"https://github.example/northwind/ledger/commit/{sha}",
                        "author": {"name": "Bob Teammate", "email": "bob@northwind.test"},
                    }
                ],
                "repository": {"full_name": "northwind/ledger"},
            }
        ).encode()
        signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        return self.client.post(
            f"/api/v1/vcs/repositories/{repository_id}/push",
            body,
            content_type="application/json",
            headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={signature}"},
        )

    def test_incident_to_fix_notice(self) -> None:
        carol, alice, mia = self.api(self.carol), self.api(self.alice), self.api(self.mia)
        admin = self.api(self.root)

        # 1. Carol reports the incident on Acme's production environment (2.4.1).
        answer = carol.post(
            "/api/v1/tickets",
            {
                "title": "Invoice totals are off by one cent",
                "description": "Since this morning every invoice over 100 EUR is one cent short.",
                "organization": "acme",
                "affected_ci": self.acme_prod.pk,
                "impact": 2,
                "urgency": 2,
            },
        )
        self.assertEqual(answer.status_code, 201, answer.content)
        incident_key = answer.json()["key"]

        # 2. Alice creates the bug from it: description carried, linked both ways.
        answer = alice.post(f"/api/v1/tickets/{incident_key}/bug", {"severity": "critical"})
        self.assertEqual(answer.status_code, 201, answer.content)
        bug_key = answer.json()["key"]
        bug = Bug.objects.get(key=bug_key)
        self.assertIn("one cent short", bug.description)
        self.assertEqual(bug.product, self.product)
        self.assertEqual([v.name for v in bug.affected_versions.all()], ["2.4.1"])
        linked = alice.get(f"/api/v1/tickets/{incident_key}/bugs").json()
        self.assertEqual([b["key"] for b in linked], [bug_key])
        alice.post(f"/api/v1/bugs/{bug_key}/transition", {"status": "triaged"})
        alice.post(f"/api/v1/bugs/{bug_key}/transition", {"status": "in_progress"})

        # 3. The fix lands on the 2.4 release branch; GitHub tells us with a signed push.
        answer = admin.post(
            "/api/v1/vcs/repositories",
            {
                "name": "northwind/ledger",
                "product": "ledger",
                "provider": "github",
                "default_branch": "main",
                "branch_patterns": ["release/*"],
                "webhook_secret": SECRET,
            },
        )
        self.assertEqual(answer.status_code, 201, answer.content)
        repository_id = answer.json()["id"]
        sha = "4f2c" + "0" * 36
        answer = self.push(
            repository_id, "release/2.4", sha, f"Round invoice totals half-up\n\nFixes {bug_key}"
        )
        self.assertEqual(answer.status_code, 200, answer.content)
        bug.refresh_from_db()
        self.assertEqual(bug.status, "fixed")
        line = BugLine.objects.get(bug=bug, major=2, minor=4)
        self.assertEqual(line.status, LineStatus.FIXED)
        self.assertEqual(line.fixed_by.sha, sha)
        # The same push again (GitHub redelivers) changes nothing.
        self.assertEqual(
            self.push(repository_id, "release/2.4", sha, f"Fixes {bug_key}").status_code, 200
        )
        self.assertEqual(bug.commit_links.count(), 1)

        # 4. A patch release 2.4.2 carrying the bug, with generated notes.
        answer = alice.post(
            "/api/v1/releases",
            {"product": "ledger", "version": "2.4.2", "kind": "patch", "summary": "Invoice fixes."},
        )
        self.assertEqual(answer.status_code, 201, answer.content)
        release_id = answer.json()["id"]
        answer = alice.post(f"/api/v1/releases/{release_id}/bugs", {"bug": bug_key})
        self.assertEqual(answer.status_code, 201, answer.content)
        answer = alice.post(f"/api/v1/releases/{release_id}/transition", {"status": "testing"})
        self.assertEqual(answer.status_code, 200, answer.content)
        notes = alice.get(f"/api/v1/releases/{release_id}/notes").json()
        self.assertIn("Invoice totals are off by one cent", notes["customer_notes"])
        self.assertIn(bug_key, notes["internal_notes"])
        self.assertIn(sha[:7], notes["internal_notes"])

        # 5. The gate holds approval until the bug is verified and tests passed.
        answer = mia.post(f"/api/v1/releases/{release_id}/approve", {})
        self.assertEqual(answer.status_code, 409, answer.content)
        ci = self.api(self.bob)  # the CI system's token belongs to a service agent
        answer = ci.post(
            f"/api/v1/releases/{release_id}/test-runs",
            {
                "name": "ledger-ci",
                "result": "passed",
                "passed": 812,
                "skipped": 3,
                "url": "https://ci.example/ledger/2.4.2/1",
            },
        )
        self.assertEqual(answer.status_code, 201, answer.content)
        answer = alice.post(f"/api/v1/bugs/{bug_key}/transition", {"status": "verified"})
        self.assertEqual(answer.status_code, 200, answer.content)
        gate = alice.get(f"/api/v1/releases/{release_id}/gate").json()
        self.assertTrue(gate["ok"], gate)
        answer = mia.post(f"/api/v1/releases/{release_id}/approve", {})
        self.assertEqual(answer.status_code, 200, answer.content)
        answer = mia.post(f"/api/v1/releases/{release_id}/transition", {"status": "released"})
        self.assertEqual(answer.status_code, 200, answer.content)

        # 6. Deployed to Acme's production environment.
        self.deliver()
        self.sink.messages.clear()
        answer = alice.post(
            "/api/v1/deployments", {"release": release_id, "environment": self.acme_prod.pk}
        )
        self.assertEqual(answer.status_code, 201, answer.content)
        deployment_id = answer.json()["id"]
        for status in ("in_progress", "succeeded"):
            answer = alice.post(
                f"/api/v1/deployments/{deployment_id}/transition", {"status": status}
            )
            self.assertEqual(answer.status_code, 200, answer.content)
        self.acme_prod.refresh_from_db()
        self.assertEqual(self.acme_prod.version.name, "2.4.2")

        # 7. The customers are told, once each, naming the fix, the version and the environment.
        self.deliver()
        notices = [
            m for m in self.sink.messages if bug_key in body_of(m) or "2.4.2" in m["Subject"]
        ]
        recipients = sorted(m["X-Envelope-To"] for m in notices)
        self.assertEqual(recipients, ["carol@acme.test", "cathy@acme.test"])
        text = body_of(notices[0])
        self.assertIn("Invoice totals are off by one cent", text)
        self.assertIn("2.4.2", text)
        self.assertIn("acme-prod", text)
        self.assertFalse(any("dave@globex.test" in m["X-Envelope-To"] for m in self.sink.messages))

        # The incident carries a public note and is resolved.
        incident = Ticket.objects.get(key=incident_key)
        self.assertEqual(incident.status, TicketStatus.RESOLVED)
        note = incident.comments.filter(is_public=True).order_by("-id").first()
        self.assertIn("2.4.2", note.body)
        # And the portal shows the environment at its new version with nothing pending.
        self.client.force_login(self.carol)
        page = self.client.get("/portal/environments/")
        self.assertContains(page, "acme-prod")
        self.assertContains(page, "2.4.2")

    def test_older_line_incident_is_not_a_regression(self) -> None:
        """Sanity of the version rule the loop relies on: a customer still on an unfixed older
        version reporting the bug again is a known bug, not a regression."""
        alice = self.api(self.alice)
        old = cmdb.add_version(self.root, self.product, name="2.4.0")
        self.acme_prod.version = old
        self.acme_prod.save()
        ticket = self.open_ticket(title="Totals off", affected_ci=self.acme_prod)
        bug_key = alice.post(f"/api/v1/tickets/{ticket.key}/bug", {}).json()["key"]
        bug = Bug.objects.get(key=bug_key)
        fixed = cmdb.add_version(self.root, self.product, name="2.4.2")
        BugLine.objects.filter(bug=bug).update(status=LineStatus.VERIFIED, fixed_version=fixed)
        Bug.objects.filter(pk=bug.pk).update(status="verified")
        again = self.open_ticket(self.cathy, title="Totals still off", affected_ci=self.acme_prod)
        answer = alice.post(f"/api/v1/bugs/{bug_key}/tickets", {"ticket": again.key})
        self.assertEqual(answer.status_code, 201, answer.content)
        bug.refresh_from_db()
        self.assertFalse(bug.is_regression)
