"""What a release carries: the bugs it fixes (by target release, by commits between two tags,
or added by hand), and, once released, the fix recorded on each bug's release line."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from sustain.bugs.models import Bug, BugCommit, BugLine, LineStatus, Repository
from sustain.bugs.vcs import scan
from sustain.cmdb import semver
from sustain.core import events
from sustain.core.errors import ActionError, Invalid
from sustain.releases.models import Release, ReleaseBug

Source = ReleaseBug.Source


def commits_between(repository: Repository, from_tag: str, to_tag: str) -> list[str]:
    """The shas reachable from `to_tag` but not from `from_tag`, read by the scanner."""
    try:
        return scan.commits_between(repository, from_tag, to_tag)
    except ActionError as exc:  # an unknown tag is bad input here, not a missing page
        field = exc.errors[0]["field"] if exc.errors else None
        raise Invalid(exc.message, field={"path": "repository"}.get(field or "", field)) from None


def _sync(release: Release, source: str, bug_ids: set[int]) -> tuple[list[str], list[str]]:
    """Make the links of `source` exactly `bug_ids` (a bug added by hand or by another source
    keeps its link); the keys added and removed."""
    current = {
        link.bug_id: link for link in release.bug_links.select_related("bug").filter(source=source)
    }
    others = set(release.bug_links.exclude(source=source).values_list("bug_id", flat=True))
    removed = [link.bug.key for bug_id, link in current.items() if bug_id not in bug_ids]
    release.bug_links.filter(source=source).exclude(bug_id__in=bug_ids).delete()
    new = bug_ids - set(current) - others
    ReleaseBug.objects.bulk_create(
        [ReleaseBug(release=release, bug_id=bug_id, source=source) for bug_id in sorted(new)]
    )
    added = list(Bug.objects.filter(pk__in=new).order_by("id").values_list("key", flat=True))
    return added, removed


def sync_targets(release: Release) -> tuple[list[str], list[str]]:
    bug_ids = set(Bug.objects.filter(target_release=release).values_list("id", flat=True))
    return _sync(release, Source.TARGET, bug_ids)


def sync_commits(release: Release) -> tuple[list[str], list[str]]:
    if release.repository is None or not release.to_tag:
        return _sync(release, Source.COMMITS, set())
    from_tag = release.from_tag
    previous = release.previous
    if not from_tag and previous is not None and previous.repository_id == release.repository_id:
        from_tag = previous.to_tag  # the previous release's tag is where this one starts
    if not from_tag:
        raise Invalid(
            f"Give from_tag: the tag {release.to_tag} is compared with it.", field="from_tag"
        )
    shas = commits_between(release.repository, from_tag, release.to_tag)
    bug_ids: set[int] = set()
    for start in range(0, len(shas), 500):  # the database's limit on query parameters
        bug_ids |= set(
            BugCommit.objects.filter(
                kind=BugCommit.Kind.FIXES,
                commit__repository=release.repository,
                commit__sha__in=shas[start : start + 500],
                bug__product_id=release.product_id,
            ).values_list("bug_id", flat=True)
        )
    return _sync(release, Source.COMMITS, bug_ids)


def ship_fixes(release: Release, actor: Any) -> list[str]:
    """On release: each included bug's line records the fix (fixed, or verified if it was),
    with the lowest fixed version of the line. Written directly on the BugLine rows in the
    release's transaction; the bug's own status is left to the bug workflow."""
    version = release.version
    shipped = []
    links = release.bug_links.select_related("bug")
    lines = {
        line.bug_id: line
        for line in BugLine.objects.filter(
            bug__release_links__release=release, major=version.major, minor=version.minor
        ).select_related("fixed_version")
    }
    now = timezone.now()
    for link in links:
        bug = link.bug
        line = lines.get(bug.pk) or BugLine(bug=bug, major=version.major, minor=version.minor)
        before = {"status": line.status if line.pk else None, "fixed_version": None}
        if line.fixed_version is not None:
            before["fixed_version"] = line.fixed_version.name
        if line.status != LineStatus.VERIFIED:
            line.status = LineStatus.FIXED
        if line.fixed_version is None or semver.key(version) < semver.key(line.fixed_version):
            line.fixed_version = version
        line.updated_at = now
        line.save()
        after = {"status": line.status, "fixed_version": line.fixed_version.name}
        events.record(
            bug,
            "line_fixed_in_release",
            actor=actor,
            before=before,
            after={**after, "line": line.line, "release": version.name},
            is_public=False,
        )
        shipped.append(bug.key)
    return shipped
