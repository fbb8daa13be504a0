"""The backport table: a bug's status on each release line (major.minor) of its product."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from sustain.accounts.actions import require_agent
from sustain.bugs.models import Bug, BugLine, LineStatus
from sustain.cmdb import semver
from sustain.cmdb.models import Version
from sustain.core import events
from sustain.core.errors import Invalid
from sustain.core.locking import locked_or_created

# A line whose fix is there: a fixed version or a fixing commit is expected, never required
# (a fix can be recorded before its release is cut).
FIX_STATUSES = {LineStatus.FIXED, LineStatus.VERIFIED}


def line_row(line: BugLine) -> dict[str, Any]:
    return {
        "line": line.line,
        "status": line.status,
        "introduced_in": line.introduced_in.name if line.introduced_in else None,
        "planned_version": line.planned_version.name if line.planned_version else None,
        "fixed_version": line.fixed_version.name if line.fixed_version else None,
        "fixed_by": line.fixed_by.sha[:12] if line.fixed_by else None,
    }


def add_affected_lines(bug: Bug, versions: Iterable[Version]) -> list[BugLine]:
    """AFFECTED rows for the lines of `versions` the bug has no row for yet; introduced_in is
    the lowest affected version of that line. Inside the caller's transaction."""
    by_line: dict[tuple[int, int], Version] = {}
    for version in versions:
        key = semver.line(version)
        if key not in by_line or semver.key(version) < semver.key(by_line[key]):
            by_line[key] = version
    existing = set(bug.lines.values_list("major", "minor"))
    created = [
        BugLine(bug=bug, major=major, minor=minor, introduced_in=lowest)
        for (major, minor), lowest in sorted(by_line.items())
        if (major, minor) not in existing
    ]
    return BugLine.objects.bulk_create(created)


def _line_version(bug: Bug, version: Version | None, major: int, minor: int, field: str) -> None:
    if version is None:
        return
    if version.product_id != bug.product_id:
        raise Invalid(f"{version.name} is not a version of {bug.product.name}.", field=field)
    if (version.major, version.minor) != (major, minor):
        raise Invalid(f"{version.name} is not on the {major}.{minor} line.", field=field)


def set_line_status(
    actor: Any,
    bug: Bug,
    *,
    major: int,
    minor: int,
    status: str,
    planned_version: Version | None = None,
    fixed_version: Version | None = None,
    introduced_in: Version | None = None,
    commit: Any = None,
) -> BugLine:
    """Set the bug's status on release line major.minor (the row is created if missing).

    Versions must be of the bug's product and on that line; a planned fix needs the version
    it is planned for.
    """
    require_agent(actor)
    for name, value in (("major", major), ("minor", minor)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**31:
            raise Invalid(f"{name} must be a whole number from 0.", field=name)
    if status not in LineStatus.values:
        raise Invalid(f"status must be one of {', '.join(LineStatus.values)}.", field="status")
    _line_version(bug, planned_version, major, minor, "planned_version")
    _line_version(bug, fixed_version, major, minor, "fixed_version")
    _line_version(bug, introduced_in, major, minor, "introduced_in")
    if status == LineStatus.FIX_PLANNED and planned_version is None:
        raise Invalid("A planned fix names the version it is planned for.", field="planned_version")
    if fixed_version is not None and status not in FIX_STATUSES:
        raise Invalid("A fixed version goes with status fixed or verified.", field="fixed_version")
    if (
        fixed_version is not None
        and introduced_in is not None
        and semver.key(fixed_version) <= semver.key(introduced_in)
    ):
        raise Invalid(
            f"The fix ({fixed_version.name}) must come after {introduced_in.name}.",
            field="fixed_version",
        )
    with transaction.atomic():
        line, created = locked_or_created(BugLine.objects.all(), bug=bug, major=major, minor=minor)
        before = {} if created else line_row(line)
        line.status = status
        line.planned_version = planned_version
        line.fixed_version = fixed_version if status in FIX_STATUSES else None
        if introduced_in is not None:
            line.introduced_in = introduced_in
        if commit is not None:
            line.fixed_by = commit
        elif status not in FIX_STATUSES:
            line.fixed_by = None
        line.updated_at = timezone.now()
        line.save()
        old, new = events.changes(before, line_row(line))
        if new:
            events.record(
                bug,
                "line_changed",
                actor=actor,
                before=old,
                after={"line": line.line, **new},
                is_public=False,
            )
            Bug.objects.filter(pk=bug.pk).update(updated_at=line.updated_at)
    return line
