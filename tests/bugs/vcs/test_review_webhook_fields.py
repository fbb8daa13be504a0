"""Review finding: a refused push names the header at fault in `errors`, as every 4xx does."""

from __future__ import annotations

from django.test import Client

from tests.bugs.vcs.base import VcsTestCase
from tests.bugs.vcs.test_webhook import body_of


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
