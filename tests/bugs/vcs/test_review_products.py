"""Review finding: `Fixes BUG-n` in a repository of another product links the commit but does
not fix the bug, nor touch its release lines (they are the other product's)."""

from __future__ import annotations

from sustain.bugs import actions as bugs
from sustain.bugs.models import BugCommit, BugLine, Status
from sustain.cmdb import actions as cmdb
from tests.bugs.vcs.base import VcsTestCase, sha
from tests.bugs.vcs.test_webhook import body_of, gh_commit, signature


class OtherProductFixTest(VcsTestCase):
    def setUp(self) -> None:
        payroll = cmdb.create_product(self.root, name="Payroll")
        self.payroll_bug = bugs.create_bug(self.alice, title="Payslips blank", product=payroll)

    def push(self, ref: str, message: str):
        body = body_of(ref=ref, commits=[gh_commit(1, message)])
        return self.client.post(
            f"/api/v1/vcs/repositories/{self.repo.pk}/push",
            body,
            content_type="application/json",
            headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={signature(body)}"},
        )

    def test_the_bug_of_another_product_is_refused_but_linked(self) -> None:
        key = self.payroll_bug.key
        response = self.push("refs/heads/release/2.4", f"Fixes {key} and {self.bug1.key}")
        self.assertEqual(response.status_code, 200, response.content)
        data = response.json()
        self.assertEqual(data["fixed"], [self.bug1.key])
        self.assertEqual([r["bug"] for r in data["refused"]], [key])
        self.assertEqual(self.fresh(self.payroll_bug).status, Status.NEW)
        self.assertFalse(BugLine.objects.filter(bug=self.payroll_bug).exists())
        self.assertTrue(BugCommit.objects.filter(bug=self.payroll_bug, commit__sha=sha(1)).exists())
        self.assertEqual(self.fresh(self.bug1).status, Status.FIXED)
