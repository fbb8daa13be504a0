"""Shared set-up of the VCS tests: a repository of the Ledger product and a few bugs."""

from __future__ import annotations

from sustain.bugs import actions as bugs
from sustain.bugs.models import Bug, Repository
from sustain.bugs.vcs.actions import CommitData
from sustain.bugs.vcs.repositories import create_repository
from tests.base import SustainTestCase

SECRET = "s3cret-webhook-key-0123456789"


def sha(n: int) -> str:
    return f"{n:040x}"


def commit(n: int, message: str) -> CommitData:
    return CommitData(sha=sha(n), message=message, author_name="Rita", author_email="r@x.test")


class VcsTestCase(SustainTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.repo = create_repository(
            cls.root,
            name="ledger",
            product=cls.product,
            provider=Repository.Provider.LOCAL,
            default_branch="main",
            branch_patterns=["release/*", "*.x"],
            webhook_secret=SECRET,
        )
        cls.bug1 = bugs.create_bug(cls.alice, title="Totals off by one", product=cls.product)
        cls.bug2 = bugs.create_bug(cls.alice, title="Export hangs", product=cls.product)
        cls.bug3 = bugs.create_bug(cls.alice, title="Login slow", product=cls.product)

    def fresh(self, bug: Bug) -> Bug:
        return Bug.objects.get(pk=bug.pk)
