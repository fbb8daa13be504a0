"""The push webhook over real HTTP, signed as GitHub, Gitea and GitLab sign: a refused push names
the header at fault, and `Fixes BUG-n` of another product links the commit without fixing the bug."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

from django.test import Client

from sustain.bugs import actions as bugs
from sustain.bugs.models import BugCommit, BugLine, Commit, Repository, Status
from sustain.bugs.vcs import payloads
from sustain.bugs.vcs.repositories import update_repository
from sustain.cmdb import actions as cmdb
from sustain.core.models import Event
from tests.bugs.vcs.base import SECRET, VcsTestCase, sha


def body_of(ref: str = "refs/heads/main", commits: list[dict] | None = None) -> bytes:
    return json.dumps(
        {"ref": ref, "before": sha(0), "after": sha(2), "commits": commits or []}
    ).encode()


def gh_commit(n: int, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": sha(n),
        "message": message,
        "timestamp": "2026-11-27T09:15:00+01:00",
        "url": f"https://github.com/acme/ledger/commit/{sha(n)}",
        "author": {"name": "Rita Coder", "email": "rita@example.test", "username": "rita"},
        **extra,
    }


def signature(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookTest(VcsTestCase):
    def setUp(self) -> None:
        self.client = Client()
        self.url = f"/api/v1/vcs/repositories/{self.repo.pk}/push"

    def post(self, body: bytes, headers: dict[str, str], url: str | None = None) -> Any:
        return self.client.post(
            url or self.url, body, content_type="application/json", headers=headers
        )

    def github(self, body: bytes, event: str = "push", secret: str = SECRET) -> Any:
        return self.post(
            body,
            {"X-GitHub-Event": event, "X-Hub-Signature-256": f"sha256={signature(body, secret)}"},
        )

    def gitea(self, body: bytes, event: str = "push") -> Any:
        return self.post(body, {"X-Gitea-Event": event, "X-Gitea-Signature": signature(body)})

    def gitlab(self, body: bytes, event: str = "Push Hook", token: str = SECRET) -> Any:
        return self.post(body, {"X-Gitlab-Event": event, "X-Gitlab-Token": token})

    def assert_nothing_written(self) -> None:
        self.assertFalse(Commit.objects.exists())
        self.assertFalse(BugCommit.objects.exists())
        self.assertEqual(self.fresh(self.bug1).status, Status.NEW)

    # --- the three providers --------------------------------------------------------------
    def test_github_push_fixes_the_bug(self) -> None:
        body = body_of(commits=[gh_commit(1, f"Fix totals\n\nFixes {self.bug1.key}")])
        response = self.github(body)
        self.assertEqual(response.status_code, 200, response.content)
        data = response.json()
        self.assertEqual((data["provider"], data["branch"], data["new"]), ("github", "main", 1))
        self.assertEqual(data["fixed"], [self.bug1.key])
        self.assertEqual(self.fresh(self.bug1).status, Status.FIXED)
        stored = Commit.objects.get()
        self.assertEqual(stored.author_email, "rita@example.test")
        self.assertEqual(stored.committed_at.isoformat(), "2026-11-27T08:15:00+00:00")
        self.assertTrue(stored.url.startswith("https://github.com/"))

    def test_gitea_push(self) -> None:
        body = body_of(commits=[gh_commit(1, f"Closes {self.bug2.key}")])
        response = self.gitea(body)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["provider"], "gitea")
        self.assertEqual(self.fresh(self.bug2).status, Status.FIXED)

    def test_forgejo_headers(self) -> None:
        body = body_of(commits=[gh_commit(1, f"Resolves {self.bug2.key}")])
        response = self.post(
            body, {"X-Forgejo-Event": "push", "X-Forgejo-Signature": signature(body)}
        )
        self.assertEqual(response.status_code, 200, response.content)

    def test_gitlab_push(self) -> None:
        body = body_of(commits=[gh_commit(1, f"Refs {self.bug3.key}")])
        response = self.gitlab(body)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["linked"], [self.bug3.key])

    def test_replaying_a_push_changes_nothing(self) -> None:
        body = body_of(commits=[gh_commit(1, f"Fixes {self.bug1.key}"), gh_commit(2, "x")])
        self.assertEqual(self.github(body).status_code, 200)
        events, links = Event.objects.count(), BugCommit.objects.count()
        again = self.github(body)
        self.assertEqual(again.status_code, 200)
        self.assertEqual((again.json()["new"], again.json()["fixed"]), (0, []))
        self.assertEqual(Event.objects.count(), events)
        self.assertEqual(BugCommit.objects.count(), links)
        self.assertEqual(Commit.objects.count(), 2)

    def test_a_branch_that_does_not_count(self) -> None:
        body = body_of("refs/heads/feature/totals", [gh_commit(1, f"Fixes {self.bug1.key}")])
        data = self.github(body).json()
        self.assertEqual((data["counts"], data["pending"]), (False, [self.bug1.key]))
        self.assertEqual(self.fresh(self.bug1).status, Status.NEW)
        self.assertEqual(Commit.objects.count(), 1)

    def test_unknown_keys_are_named(self) -> None:
        body = body_of(commits=[gh_commit(1, "Fixes BUG-99999")])
        self.assertEqual(self.github(body).json()["unknown"], ["BUG-99999"])

    # --- refused: nothing written -----------------------------------------------------------
    def test_a_wrong_signature_is_refused(self) -> None:
        body = body_of(commits=[gh_commit(1, f"Fixes {self.bug1.key}")])
        response = self.github(body, secret="another-secret-0123456789")
        self.assertEqual(response.status_code, 403)
        self.assert_nothing_written()

    def test_a_signature_of_another_body_is_refused(self) -> None:
        body = body_of(commits=[gh_commit(1, f"Fixes {self.bug1.key}")])
        headers = {
            "X-GitHub-Event": "push",
            "X-Hub-Signature-256": f"sha256={signature(body_of())}",
        }
        self.assertEqual(self.post(body, headers).status_code, 403)
        self.assert_nothing_written()

    def test_a_missing_signature_is_refused(self) -> None:
        body = body_of(commits=[gh_commit(1, f"Fixes {self.bug1.key}")])
        self.assertEqual(self.post(body, {"X-GitHub-Event": "push"}).status_code, 401)
        self.assertEqual(self.post(body, {}).status_code, 401)
        self.assertEqual(self.post(body, {"X-Gitea-Event": "push"}).status_code, 401)
        self.assert_nothing_written()

    def test_a_bearer_token_is_no_signature(self) -> None:
        body = body_of(commits=[gh_commit(1, f"Fixes {self.bug1.key}")])
        response = self.post(body, {"Authorization": f"Bearer {self.token_for(self.root)}"})
        self.assertEqual(response.status_code, 401)
        self.assert_nothing_written()

    def test_a_wrong_gitlab_token_is_refused(self) -> None:
        body = body_of(commits=[gh_commit(1, f"Fixes {self.bug1.key}")])
        self.assertEqual(self.gitlab(body, token="nope-nope-nope-nope").status_code, 403)
        self.assertEqual(self.gitlab(body, token="").status_code, 401)
        self.assert_nothing_written()

    def test_a_repository_without_a_secret_refuses_pushes(self) -> None:
        update_repository(self.root, self.repo, webhook_secret="")
        body = body_of(commits=[gh_commit(1, f"Fixes {self.bug1.key}")])
        response = self.github(body)
        self.assertEqual(response.status_code, 403)
        self.assertIn("set one", response.json()["detail"])
        self.assert_nothing_written()

    def test_a_repository_of_one_provider_refuses_another(self) -> None:
        update_repository(self.root, self.repo, provider=Repository.Provider.GITHUB)
        body = body_of(commits=[gh_commit(1, f"Fixes {self.bug1.key}")])
        self.assertEqual(self.gitlab(body).status_code, 403)
        self.assertEqual(self.github(body).status_code, 200)

    def test_unknown_repository(self) -> None:
        body = body_of()
        url = "/api/v1/vcs/repositories/999999/push"
        headers = {"X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={signature(body)}"}
        self.assertEqual(self.post(body, headers, url=url).status_code, 404)

    def test_github_form_encoded(self) -> None:
        payload = body_of(commits=[gh_commit(1, f"Fixes {self.bug1.key}")]).decode()
        body = urlencode({"payload": payload}).encode()
        response = self.client.post(
            self.url,
            body,
            content_type="application/x-www-form-urlencoded",
            headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={signature(body)}"},
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["fixed"], [self.bug1.key])
        empty = b"other=1"
        refused = self.client.post(
            self.url,
            empty,
            content_type="application/x-www-form-urlencoded",
            headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={signature(empty)}"},
        )
        self.assertEqual(refused.status_code, 422)
        self.assertEqual(refused.json()["errors"][0]["field"], "payload")

    def test_malformed_json(self) -> None:
        response = self.github(b"{not json")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["errors"][0]["field"], "body")

    def test_missing_and_wrong_fields_are_named(self) -> None:
        cases = [
            (json.dumps({"commits": []}).encode(), "ref"),
            (json.dumps([1, 2]).encode(), "body"),
            (body_of("main"), "ref"),
            (json.dumps({"ref": "refs/heads/main", "commits": {"a": 1}}).encode(), "commits"),
            (body_of(commits=[{"message": "x"}]), "commits[0].id"),
            (body_of(commits=[gh_commit(1, "ok"), {"id": "zz", "message": "x"}]), "commits[1].id"),
            (body_of(commits=[{"id": sha(1)}]), "commits[0].message"),
            (body_of(commits=[gh_commit(1, "x", timestamp="yesterday")]), "commits[0].timestamp"),
            (body_of(commits=[gh_commit(1, "x", author="rita")]), "commits[0].author"),
        ]
        for body, field in cases:
            with self.subTest(field=field):
                response = self.github(body)
                self.assertEqual(response.status_code, 422, response.content)
                self.assertEqual(response.json()["errors"][0]["field"], field)
        self.assert_nothing_written()

    def test_a_bad_commit_refuses_the_whole_push(self) -> None:
        commits = [gh_commit(1, f"Fixes {self.bug1.key}"), gh_commit(2, "x", timestamp="no")]
        self.assertEqual(self.github(body_of(commits=commits)).status_code, 422)
        self.assert_nothing_written()

    def test_too_large(self) -> None:
        body = b" " * (payloads.MAX_BODY + 1)
        self.assertEqual(self.github(body).status_code, 413)

    # --- accepted and ignored ---------------------------------------------------------------
    def test_ping(self) -> None:
        body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
        self.assertEqual(self.github(body, event="ping").status_code, 200)

    def test_other_events_are_ignored(self) -> None:
        body = json.dumps({"action": "opened"}).encode()
        self.assertEqual(self.github(body, event="issues").status_code, 202)
        self.assertEqual(self.gitlab(body, event="Merge Request Hook").status_code, 202)
        self.assert_nothing_written()

    def test_tag_pushes_are_ignored(self) -> None:
        body = body_of("refs/tags/v8.0.1", [gh_commit(1, f"Fixes {self.bug1.key}")])
        self.assertEqual(self.github(body).status_code, 202)
        self.assertEqual(self.gitlab(body, event="Tag Push Hook").status_code, 202)
        self.assert_nothing_written()

    def test_a_branch_deletion_records_nothing(self) -> None:
        body = json.dumps({"ref": "refs/heads/old", "deleted": True, "commits": []}).encode()
        response = self.github(body)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["seen"], 0)
        self.assert_nothing_written()


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


class RefusedPushNamesTheHeaderTest(VcsTestCase):
    def post(self, headers: dict[str, str]):
        return Client().post(
            f"/api/v1/vcs/repositories/{self.repo.pk}/push",
            body_of(),
            content_type="application/json",
            headers=headers,
        )

    def fields(self, response) -> list[str]:
        return [e["field"] for e in response.json()["errors"]]

    def test_a_wrong_signature(self) -> None:
        response = self.post({"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=00"})
        self.assertEqual(response.status_code, 403, response.content)
        self.assertEqual(self.fields(response), ["X-Hub-Signature-256"])

    def test_a_missing_signature(self) -> None:
        response = self.post({"X-GitHub-Event": "push"})
        self.assertEqual(response.status_code, 401, response.content)
        self.assertEqual(self.fields(response), ["X-Hub-Signature-256"])

    def test_a_wrong_gitlab_token(self) -> None:
        response = self.post({"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "nope"})
        self.assertEqual(response.status_code, 403, response.content)
        self.assertEqual(self.fields(response), ["X-Gitlab-Token"])

    def test_a_missing_gitea_signature(self) -> None:
        response = self.post({"X-Gitea-Event": "push"})
        self.assertEqual(response.status_code, 401, response.content)
        self.assertEqual(self.fields(response), ["X-Gitea-Signature"])
