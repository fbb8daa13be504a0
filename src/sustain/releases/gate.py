"""The quality gate a release passes before approval: named checks, each ok or failing."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet

from sustain.bugs.models import OPEN_STATUSES, Bug, BugLine, LineStatus, Severity, Status
from sustain.cmdb import semver
from sustain.releases.models import Release, TestRun


@dataclass(frozen=True)
class Check:
    name: str  # stable: bugs_verified, tests_passed, no_open_blockers
    label: str
    ok: bool
    message: str
    bugs: list[str] = field(default_factory=list)  # the keys at fault


@dataclass(frozen=True)
class Gate:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failing(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


def _keys(bugs: list[str], limit: int = 10) -> str:
    shown = ", ".join(bugs[:limit])
    return shown + (f" and {len(bugs) - limit} more" if len(bugs) > limit else "")


def _verified(release: Release) -> Check:
    label = "Every included bug is verified"
    # Bugs targeting the release count even before a refresh links them.
    rows = list(
        Bug.objects.filter(Q(release_links__release=release) | Q(target_release=release))
        .distinct()
        .order_by("id")
        .values_list("key", "status", "verified_at")
    )
    if not rows:
        return Check("bugs_verified", label, True, "No bugs included.")
    # Closed counts only when it was verified first (a bug closed as "not needed" was not).
    unverified = [
        key
        for key, status, verified_at in rows
        if not (status == Status.VERIFIED or (status == Status.CLOSED and verified_at is not None))
    ]
    if unverified:
        return Check(
            "bugs_verified",
            label,
            False,
            f"{len(unverified)} of {len(rows)} included bugs not verified: {_keys(unverified)}.",
            unverified,
        )
    return Check("bugs_verified", label, True, f"All {len(rows)} included bugs are verified.")


def _tests(release: Release) -> Check:
    label = "The latest test run passed"
    latest = TestRun.objects.filter(release=release).order_by("-id").first()
    if latest is None:
        return Check("tests_passed", label, False, "No test run reported yet.")
    counts = f"{latest.passed} passed, {latest.failed} failed, {latest.skipped} skipped"
    if latest.result != TestRun.Result.PASSED:
        return Check(
            "tests_passed", label, False, f"Latest run '{latest.name}' {latest.result} ({counts})."
        )
    return Check("tests_passed", label, True, f"Latest run '{latest.name}' passed ({counts}).")


def open_blockers(release: Release) -> QuerySet[Bug]:
    """Open blocker bugs of the product that affect this version: listed as affecting it, or
    affected on its line with no fix in a version at or below it."""
    version = release.version
    fixed_above = semver.at_least(version, "fixed_version") & ~Q(
        fixed_version__major=version.major,
        fixed_version__minor=version.minor,
        fixed_version__patch=version.patch,
    )
    unfixed_on_line = BugLine.objects.filter(
        bug=OuterRef("pk"),
        major=version.major,
        minor=version.minor,
        status__in=(LineStatus.AFFECTED, LineStatus.FIX_PLANNED),
    ).filter(Q(fixed_version__isnull=True) | fixed_above)
    listed = Bug.affected_versions.through.objects.filter(bug=OuterRef("pk"), version=version)
    return Bug.objects.filter(
        Exists(listed) | Exists(unfixed_on_line),
        product_id=release.product_id,
        severity=Severity.BLOCKER,
        status__in=OPEN_STATUSES,
    ).order_by("id")


def _blockers(release: Release) -> Check:
    label = "No open blocker bug affects this version"
    keys = list(open_blockers(release).values_list("key", flat=True)[:50])
    if keys:
        return Check(
            "no_open_blockers",
            label,
            False,
            f"Open blocker{'s' if len(keys) > 1 else ''} affecting {release.version.name}: "
            f"{_keys(keys)}.",
            keys,
        )
    return Check("no_open_blockers", label, True, "No open blocker affects this version.")


def evaluate(release: Release) -> Gate:
    return Gate([_verified(release), _tests(release), _blockers(release)])
