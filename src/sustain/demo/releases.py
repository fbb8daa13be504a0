"""The demo's bugs, releases and deployments: one fix already delivered, one on its way.

Loaded by `sustain demo` / `make run` after the desk's world, through the same actions a team
would use, so the pages show a lived-in history: Acme's invoice bug fixed by a commit, shipped in
Ledger 2.4.2, deployed to Acme's staging (production still waiting), 2.5.0 in testing.
"""

from __future__ import annotations

from sustain.accounts.models import User
from sustain.bugs import actions as bugs
from sustain.bugs.actions import create_bug_from_ticket
from sustain.bugs.models import BugCommit, Commit, Repository, Severity
from sustain.cmdb.models import ConfigItem, Product
from sustain.desk import actions as desk
from sustain.desk.models import Ticket
from sustain.releases import actions as releases
from sustain.releases.deployments import actions as deployments
from sustain.releases.models import ReleaseChange


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


def load_fix_loop_world() -> None:
    alice = User.objects.get(email="alice@sustain.localhost")
    mia = User.objects.get(email="mia@sustain.localhost")
    carol = User.objects.get(email="carol@acme.example")
    ledger = Product.objects.get(slug="ledger")
    acme_prod = ConfigItem.objects.get(name="acme-production")
    acme_staging = ConfigItem.objects.get(name="acme-staging")

    incident = desk.open_ticket(
        carol,
        title="Invoice totals are one cent short",
        description="Every invoice over 100 EUR is one cent short since the update to 2.4.1.",
        affected_ci=acme_prod,
        impact=2,
        urgency=1,
    )
    desk.assign(alice, incident, assignee=alice)
    bug = create_bug_from_ticket(
        alice,
        incident,
        severity=Severity.CRITICAL,
        steps_to_reproduce="1. Create an invoice of 100.05 EUR\n2. Look at the total",
        expected_behaviour="100.05 EUR",
        actual_behaviour="100.04 EUR",
    )
    bugs.transition(alice, bug, "triaged")
    bugs.transition(alice, bug, "in_progress")
    repository = Repository.objects.create(
        name="northwind/ledger",
        product=ledger,
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
    BugCommit.objects.create(bug=bug, commit=fix, kind=BugCommit.Kind.FIXES, branch="release/2.4")
    bugs.mark_fixed_by_commit(alice, bug, fix, branch="release/2.4", line=(2, 4))
    bugs.transition(alice, bug, "verified")

    patch = releases.create_release(
        alice,
        product=ledger,
        version="2.4.2",
        kind="patch",
        summary="Invoice rounding and a faster export.",
    )
    releases.add_bug(alice, patch, bug)
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
    staging = deployments.schedule_deployment(alice, release=patch, environment=acme_staging)
    staging = deployments.start_deployment(alice, staging)
    deployments.succeed_deployment(alice, staging)

    other = Ticket.objects.filter(organization__slug="globex").order_by("id").first()
    export_bug = bugs.create_bug(
        alice,
        title="PDF export times out for reports over 500 pages",
        product=ledger,
        description="The export worker stops after 30 s.",
        severity=Severity.MAJOR,
    )
    if other is not None:
        bugs.link_ticket(alice, export_bug, other)
    minor = releases.create_release(
        alice, product=ledger, version="2.5.0", kind="minor", summary="Scheduled reports."
    )
    releases.transition(alice, minor, "testing")
