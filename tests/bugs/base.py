"""What the bug tests share: a product with release lines, and helpers to make bugs."""

from __future__ import annotations

from typing import Any

from sustain.bugs import actions as bugs
from sustain.bugs.models import Bug, Commit, Repository
from sustain.cmdb import actions as cmdb
from tests.base import SustainTestCase


class BugTestCase(SustainTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        root, product = cls.root, cls.product  # Ledger, with 2.4.1 from the base class
        cls.v = {"2.4.1": cls.version}
        for name in ("2.4.0", "2.4.2", "2.4.3", "2.5.0", "2.5.1", "3.0.0", "3.0.1"):
            cls.v[name] = cmdb.add_version(root, product, name=name)
        cls.other_product = cmdb.create_product(root, name="Payroll")
        cls.other_version = cmdb.add_version(root, cls.other_product, name="1.0.0")
        cls.component = cmdb.add_component(root, product, name="Exports")
        cls.repository = Repository.objects.create(name="ledger", product=product)

    def bug(self, actor: Any = None, **fields: Any) -> Bug:
        fields.setdefault("title", "Totals are rounded twice")
        fields.setdefault("product", self.product)
        return bugs.create_bug(actor or self.alice, **fields)

    def commit(self, sha: str = "a" * 40, message: str = "Fixes BUG-1") -> Commit:
        return Commit.objects.get_or_create(
            repository=self.repository, sha=sha, defaults={"message": message}
        )[0]

    def verbs(self, bug: Bug) -> list[str]:
        from sustain.core.events import for_target

        return list(for_target(bug).values_list("verb", flat=True))
