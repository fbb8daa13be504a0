"""Regressions: a bug whose fix was confirmed (verified or closed) and that came back.

Versions are compared by semantic version within a release line, never by date:

- A new incident from an environment running version V of the bug's product, on line L:
  - L has a fix (a BugLine with fixed_version F): V >= F is a regression in V; V < F is an
    older version that never got the fix, so just another incident of the known bug.
  - L is known and unfixed (affected, fix planned, won't fix): not a regression.
  - L has no fix row (or is marked unaffected): compared with the highest line that has a fix.
    A newer line than that is a regression in V (the fix was supposed to carry forward); an
    older line is not (it never got a backport). When no line records a fix at all, the bug's
    verified/closed status is the only claim of a fix, so V counts as a regression.
- An incident without version information (no environment, or one running another product)
  counts as a regression in the product's latest released version (by semver; None when
  nothing is released yet): the bug was confirmed fixed, and someone is hit again.
- An incident opened before the fix (before fixed_at, or verified_at / closed_at when those
  are all there is) is an old report linked late: not a regression.
- A reopen of a verified or closed bug is a regression, in the version the reopen names or
  else the latest released one.

A regression flags the bug (is_regression, regressed_in), raises its priority one step
(P3 → P2, with settings.REGRESSION_RAISES_PRIORITY, default on), puts it back to triaged
when it was still verified or closed, records a "regression" event and tells the assignee.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from sustain.bugs import notifications
from sustain.bugs.models import Bug, LineStatus, Status
from sustain.bugs.similar import index as similar_index
from sustain.bugs.workflow import CONFIRMED_FIXED
from sustain.cmdb import semver
from sustain.cmdb.models import Version
from sustain.core import events
from sustain.core.locking import save_changed

UNFIXED_LINE = {LineStatus.AFFECTED, LineStatus.FIX_PLANNED, LineStatus.WONT_FIX}


def latest_released(product_id: int) -> Version | None:
    """The highest released version of a product by semantic version (pre-releases aside)."""
    versions = Version.objects.filter(
        product_id=product_id, released_at__isnull=False, prerelease=""
    )
    return max(versions, key=semver.key, default=None)


def incident_version(bug: Bug, ticket: Any) -> Version | None:
    """The version of the bug's product the incident's environment runs, if it says."""
    ci = ticket.affected_ci
    if ci is None or ci.version_id is None or ci.version.product_id != bug.product_id:
        return None
    return ci.version


def is_regression_in(bug: Bug, version: Version) -> bool:
    """Whether an incident on `version` of a verified/closed bug is a regression (see above)."""
    lines = {
        (bl.major, bl.minor): (
            bl.status,
            semver.key(bl.fixed_version) if bl.fixed_version else None,
        )
        for bl in bug.lines.select_related("fixed_version")
    }
    return decide(semver.key(version), lines)


def decide(version: tuple, lines: dict[tuple[int, int], tuple[str, tuple | None]]) -> bool:
    """The rule on semver keys alone: `lines` maps (major, minor) to (line status, key of the
    fixed version or None). Dates play no part."""
    here = lines.get((version[0], version[1]))
    if here is not None and here[1] is not None:
        return version >= here[1]
    if here is not None and here[0] in UNFIXED_LINE:
        return False
    fixes = [fixed for _status, fixed in lines.values() if fixed is not None]
    if not fixes:
        return True
    highest = max(fixes)
    return (version[0], version[1]) > (highest[0], highest[1])


def check_new_incident(actor: Any, bug: Bug, ticket: Any) -> bool:
    """After `ticket` was linked to `bug` (inside the linking transaction): flag a regression
    when the rules above say so; returns whether it did."""
    if bug.status not in CONFIRMED_FIXED:
        return False
    fixed_when = bug.fixed_at or bug.verified_at or bug.closed_at
    if fixed_when is not None and ticket.created_at < fixed_when:
        return False
    version = incident_version(bug, ticket)
    if version is None:
        flag(actor, bug, version=latest_released(bug.product_id), cause="incident", ticket=ticket)
        return True
    if not is_regression_in(bug, version):
        return False
    flag(actor, bug, version=version, cause="incident", ticket=ticket)
    return True


def flag(
    actor: Any,
    bug: Bug,
    *,
    version: Version | None,
    cause: str,
    ticket: Any = None,
    reopen: bool = True,
) -> None:
    """Mark `bug` as a regression in `version`; the caller holds the transaction."""
    before = {
        "status": bug.status,
        "priority": bug.priority,
        "is_regression": bug.is_regression,
        "regressed_in": bug.regressed_in.name if bug.regressed_in else None,
    }
    bug.is_regression, bug.regressed_in = True, version
    if settings.REGRESSION_RAISES_PRIORITY and bug.priority > 1:
        bug.priority -= 1
    if reopen and bug.status in CONFIRMED_FIXED:
        bug.status = Status.TRIAGED
        bug.verified_at = bug.closed_at = None
        similar_index.refresh(bug, text_changed=False, was_open=False)
    save_changed(bug)  # the caller locked the row (locked())
    after = {
        "status": bug.status,
        "priority": bug.priority,
        "is_regression": True,
        "regressed_in": version.name if version else None,
        "cause": cause,
    }
    event = events.record(
        bug,
        "regression",
        actor=actor,
        before=before,
        after=after,
        is_public=False,
        # Naming the incident ties the event to its customer: staff serving others skip it.
        organization_id=ticket.organization_id if ticket is not None else None,
    )
    if ticket is not None:
        event.after["ticket"] = ticket.key
        event.save(update_fields=["after"])
    notifications.regression(bug, actor, event)
