"""Deployment tests: Ledger with a few releases on two lines, environments of Acme and Globex,
bugs with their release lines and incidents."""

from __future__ import annotations

from typing import Any

from django.core import mail
from django.utils import timezone

from sustain.accounts.models import Organization
from sustain.bugs.models import Bug, BugLine, BugTicket
from sustain.cmdb import actions as cmdb
from sustain.cmdb.models import ConfigItem, Version
from sustain.core import outbox
from sustain.releases.deployments import actions
from sustain.releases.models import Deployment, Release, ReleaseBug, Status
from tests.base import SustainTestCase


class DeploymentTestCase(SustainTestCase):
    """Ledger 2.4.1 runs on acme-prod (the base class); these tests add releases on top."""

    _bug_number = 0

    def release(self, name: str, status: str = Status.RELEASED, *, fixes: tuple = ()) -> Release:
        version = Version.objects.filter(product=self.product, name=name).first()
        if version is None:
            version = cmdb.add_version(self.root, self.product, name=name)
        _major, minor, patch = (int(p) for p in name.split("-")[0].split("."))
        kind = "patch" if patch else ("minor" if minor else "major")
        release = Release.objects.create(
            product=self.product,
            version=version,
            kind=kind,
            status=status,
            released_at=timezone.now() if status == Status.RELEASED else None,
            customer_notes=f"## {name}\n\nFixes and improvements.",
        )
        for bug in fixes:
            ReleaseBug.objects.create(release=release, bug=bug)
        return release

    def ver(self, name: str) -> Version:
        found = Version.objects.filter(product=self.product, name=name).first()
        return found or cmdb.add_version(self.root, self.product, name=name)

    def bug(self, title: str = "Totals are wrong", **fields: Any) -> Bug:
        DeploymentTestCase._bug_number += 1
        fields.setdefault("product", self.product)
        fields.setdefault("status", "fixed")
        affected = fields.pop("affected", ())
        bug = Bug.objects.create(
            key=f"BUG-{7000 + DeploymentTestCase._bug_number}", title=title, **fields
        )
        if affected:
            bug.affected_versions.set([self.ver(v) for v in affected])
        return bug

    def line(self, bug: Bug, line: str, status: str = "affected", **versions: str) -> BugLine:
        major, minor = (int(p) for p in line.split("."))
        fields = {k: self.ver(v) for k, v in versions.items()}
        return BugLine.objects.create(bug=bug, major=major, minor=minor, status=status, **fields)

    def environment(
        self, organization: Organization, name: str, version: str | None, **fields: Any
    ) -> ConfigItem:
        return cmdb.create_config_item(
            self.root,
            organization=organization,
            name=name,
            kind=fields.pop("kind", ConfigItem.Kind.ENVIRONMENT),
            product=self.product,
            version=self.ver(version) if version else None,
            **fields,
        )

    def link(self, bug: Bug, ticket: Any) -> BugTicket:
        return BugTicket.objects.create(bug=bug, ticket=ticket)

    def deploy(self, release: Release, environment: ConfigItem, actor: Any = None) -> Deployment:
        """Schedule, start and succeed, with the on-commit callbacks run."""
        actor = actor or self.alice
        with self.captureOnCommitCallbacks(execute=True):
            deployment = actions.schedule_deployment(
                actor, release=release, environment=environment
            )
            deployment = actions.start_deployment(actor, deployment)
            deployment = actions.succeed_deployment(actor, deployment)
        return deployment

    def flush_mail(self) -> None:
        outbox.deliver_due()
        mail.outbox.clear()

    def delivered(self) -> list:
        outbox.deliver_due()
        return list(mail.outbox)
