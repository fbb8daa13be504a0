"""Releases tests: a product with a few released versions, bugs and helpers."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from sustain.bugs.models import Bug, BugLine
from sustain.cmdb.models import Product, Version
from sustain.releases import actions
from sustain.releases.models import Release, Status, TestRun
from tests.base import SustainTestCase


class ReleaseTestCase(SustainTestCase):
    """Ledger has 2.4.1 (base, run by acme-prod); these tests add releases on top."""

    _bug_number = 0

    def make_release(self, version: str, kind: str = "patch", **fields: Any) -> Release:
        return actions.create_release(
            self.alice,
            product=fields.pop("product", self.product),
            version=version,
            kind=kind,
            **fields,
        )

    def released(self, version: str, kind: str = "patch", **fields: Any) -> Release:
        """A release that went out (written directly: the workflow is tested elsewhere)."""
        release = self.make_release(version, kind, **fields)
        now = timezone.now()
        Release.objects.filter(pk=release.pk).update(status=Status.RELEASED, released_at=now)
        Version.objects.filter(pk=release.version_id).update(released_at=now)
        release.refresh_from_db()
        return release

    def bug(self, title: str = "Totals are wrong", **fields: Any) -> Bug:
        ReleaseTestCase._bug_number += 1
        fields.setdefault("product", self.product)
        fields.setdefault("status", "verified")
        if fields["status"] in ("verified", "closed"):
            fields.setdefault("verified_at", timezone.now())
        key = fields.pop("key", None) or f"BUG-{9000 + ReleaseTestCase._bug_number}"
        return Bug.objects.create(key=key, title=title, **fields)

    def line(self, bug: Bug, line: str, status: str = "affected", **fields: Any) -> BugLine:
        major, minor = (int(p) for p in line.split("."))
        return BugLine.objects.create(bug=bug, major=major, minor=minor, status=status, **fields)

    def passing_run(self, release: Release) -> TestRun:
        return actions.add_test_run(self.alice, release, result="passed", passed=10)

    def to_testing(self, release: Release) -> Release:
        return actions.transition(self.alice, release, "testing")

    def other_product(self) -> Product:
        return Product.objects.create(name="Other", slug="other")
