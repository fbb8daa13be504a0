"""The demo's bugs, releases and deployments: one fix delivered and the customer told, one on
its way, environments behind on updates.

Played on the history's timeline (history.py) through the same actions a team would use:
Acme's invoice bug is reported nine days before the demo is loaded, fixed by a commit, shipped
in Ledger 2.4.2, deployed to Acme's staging and then, this morning, to Acme's production, which
tells Acme and resolves its incident with a note. Globex still runs 2.4.1 (and 2.3.0 on
staging): behind on updates, the invoice fix waiting for it. 2.5.0 is in testing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sustain.accounts.models import User
from sustain.bugs import actions as bugs
from sustain.bugs.actions import create_bug_from_ticket
from sustain.bugs.models import BugCommit, Commit, Repository, Severity
from sustain.cmdb.models import ConfigItem, Product
from sustain.demo.history import Timeline
from sustain.desk import actions as desk
from sustain.desk.models import Ticket
from sustain.releases import actions as releases
from sustain.releases.deployments import actions as deployments
from sustain.releases.models import ReleaseChange

DAY = timedelta(days=1)


def _commit(repository: Repository, sha: str, message: str, branch: str) -> Commit:
    commit = Commit.objects.create(
        repository=repository,
        sha=sha,
        message=message,
        author_name="Bob Builder",
        author_email="bob@sustain.localhost",
    )
    commit.branches.create(branch=branch)
    return commit


class FixLoop:
    """The steps of the fix's journey; each finds what the earlier ones made on `self`."""

    def __init__(self) -> None:
        self.alice = User.objects.get(email="alice@sustain.localhost")
        self.mia = User.objects.get(email="mia@sustain.localhost")
        self.carol = User.objects.get(email="carol@acme.example")
        self.ledger = Product.objects.get(slug="ledger")
        self.state: dict[str, Any] = {}

    def report(self) -> None:
        incident = desk.open_ticket(
            self.carol,
            title="Invoice totals are one cent short",
            description="Every invoice over 100 EUR is one cent short since the update to 2.4.1.",
            affected_ci=ConfigItem.objects.get(name="acme-production"),
            impact=2,
            urgency=1,
        )
        self.state["incident"] = incident

    def triage(self) -> None:
        incident = Ticket.objects.get(pk=self.state["incident"].pk)
        desk.assign(self.alice, incident, assignee=self.alice)
        desk.add_comment(
            self.alice, incident, "We can reproduce it: a rounding error. A fix is on its way."
        )
        bug = create_bug_from_ticket(
            self.alice,
            incident,
            severity=Severity.CRITICAL,
            steps_to_reproduce="1. Create an invoice of 100.05 EUR\n2. Look at the total",
            expected_behaviour="100.05 EUR",
            actual_behaviour="100.04 EUR",
        )
        bugs.transition(self.alice, bug, "triaged")
        bugs.transition(self.alice, bug, "in_progress")
        self.state["bug"] = bug

    def fix(self) -> None:
        bug = self.state["bug"]
        repository = Repository.objects.create(
            name="northwind/ledger",
            product=self.ledger,
            provider=Repository.Provider.GITHUB,
            url="https://github.example/northwind/ledger",
            branch_patterns=["release/*"],
        )
        fix = _commit(
            repository,
            "4f2c9a1d6e0b7c3a5f8e2d1c0b9a8f7e6d5c4b3a",
            f"Round invoice totals half-up\n\nFixes {bug.key}",
            "release/2.4",
        )
        BugCommit.objects.create(
            bug=bug, commit=fix, kind=BugCommit.Kind.FIXES, branch="release/2.4"
        )
        bugs.mark_fixed_by_commit(self.alice, bug, fix, branch="release/2.4", line=(2, 4))
        bugs.transition(self.alice, bug, "verified")

    def release(self) -> None:
        alice, mia = self.alice, self.mia
        patch = releases.create_release(
            alice,
            product=self.ledger,
            version="2.4.2",
            kind="patch",
            summary="Invoice rounding and a faster export.",
        )
        releases.add_bug(alice, patch, self.state["bug"])
        releases.add_change(
            alice, patch, kind=ReleaseChange.Kind.IMPROVEMENT, title="CSV export is twice as fast"
        )
        releases.transition(alice, patch, "testing")
        releases.add_test_run(
            alice,
            patch,
            name="ledger-ci",
            result="passed",
            passed=812,
            skipped=3,
            url="https://ci.example/ledger/2.4.2/1",
        )
        releases.approve(mia, patch)
        releases.publish(mia, patch)
        self.state["patch"] = patch

    def deploy(self, environment: str) -> None:
        deployment = deployments.schedule_deployment(
            self.alice,
            release=self.state["patch"],
            environment=ConfigItem.objects.get(name=environment),
        )
        deployment = deployments.start_deployment(self.alice, deployment)
        deployments.succeed_deployment(self.alice, deployment)

    def next_work(self) -> None:
        alice = self.alice
        other = Ticket.objects.filter(organization__slug="globex").order_by("id").first()
        export_bug = bugs.create_bug(
            alice,
            title="PDF export times out for reports over 500 pages",
            product=self.ledger,
            description="The export worker stops after 30 s.",
            severity=Severity.MAJOR,
        )
        if other is not None:
            bugs.link_ticket(alice, export_bug, other)
        minor = releases.create_release(
            alice, product=self.ledger, version="2.5.0", kind="minor", summary="Scheduled reports."
        )
        releases.transition(alice, minor, "testing")


def fix_loop(timeline: Timeline) -> None:
    """The fix's journey on the timeline, from the report to the customer told."""
    loop = FixLoop()
    now = timeline.now
    timeline.add(now - 9 * DAY, loop.report)
    timeline.add(now - 9 * DAY + timedelta(minutes=12), loop.triage)
    timeline.add(now - 7 * DAY, loop.fix)
    timeline.add(now - 4 * DAY, loop.release)
    timeline.add(now - 3 * DAY, lambda: loop.deploy("acme-staging"))
    timeline.add(now - 2 * DAY, loop.next_work)
    # This morning: production, inside the hours that send mail, so Acme's notice goes out.
    timeline.add(now - timedelta(hours=5), lambda: loop.deploy("acme-production"))
