"""Every change to a release goes through these functions, whichever door it came through.

Agents plan releases, fill them and report test runs; managers and admins approve them
through the quality gate, and only an admin may approve past a failing gate, with a reason
that stays on the record. Each action writes in one transaction and records its event.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from sustain.accounts.actions import require_agent
from sustain.accounts.models import User
from sustain.bugs.models import Bug, Repository
from sustain.cmdb import semver
from sustain.cmdb.models import Product, Version
from sustain.core import events
from sustain.core.errors import Conflict, Forbidden, Invalid
from sustain.releases import contents, gate, notes, numbering
from sustain.releases.models import Kind, Release, ReleaseBug, ReleaseChange, Status, TestRun

TRANSITIONS: dict[str, set[str]] = {
    Status.PLANNED: {Status.TESTING, Status.WITHDRAWN},
    Status.TESTING: {Status.PLANNED, Status.APPROVED, Status.WITHDRAWN},
    Status.APPROVED: {Status.TESTING, Status.RELEASED, Status.WITHDRAWN},
    # A shipped release can still be pulled (with a reason); nothing comes back from withdrawn.
    Status.RELEASED: {Status.WITHDRAWN},
    Status.WITHDRAWN: set(),
}
# Contents (bugs, changes, tags) are settled by approval; notes stay editable until release.
CONTENT_STATUSES = (Status.PLANNED, Status.TESTING)
NOTES_STATUSES = (Status.PLANNED, Status.TESTING, Status.APPROVED)
# A tag or branch name as git takes it, never an option (a leading dash) or a range.
_REF = re.compile(r"^(?!-)(?!.*\.\.)[^\s~^:?*\[\\]{1,200}$")
TEXT_MAX = 50_000


def allowed_transitions(status: str) -> set[str]:
    return set(TRANSITIONS.get(status, set()))


def snapshot(release: Release) -> dict[str, Any]:
    return {
        "status": release.status,
        "summary": release.summary,
        "known_issues": release.known_issues,
        "planned_for": release.planned_for.isoformat() if release.planned_for else None,
        "repository": release.repository.name if release.repository else None,
        "from_tag": release.from_tag,
        "to_tag": release.to_tag,
    }


def _record(release: Release, verb: str, actor: Any, **kwargs: Any) -> None:
    kwargs.setdefault("is_public", False)
    events.record(release, verb, actor=actor, **kwargs)


def _require_manager(actor: User, what: str) -> None:
    if not actor.is_manager:
        raise Forbidden(f"Only managers and administrators may {what}.")


def _locked(release: Release) -> Release:
    """The release row again, locked for this transaction (two approvals never both pass)."""
    fresh = (
        Release.objects.select_for_update().select_related("version", "product").get(pk=release.pk)
    )
    release.__dict__.update(fresh.__dict__)
    return release


def _check_status(release: Release, allowed: tuple[str, ...], doing: str) -> None:
    if release.status not in allowed:
        raise Conflict(
            f"{release.name} is {release.status}: {doing} only while {' or '.join(allowed)}.",
            field="status",
        )


def _text(value: Any, field: str, limit: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise Invalid(f"{field} is longer than {limit} characters.", field=field)
    return value


def _ref(value: str, field: str) -> str:
    value = (value or "").strip()
    if value and not _REF.match(value):
        raise Invalid(f"'{value[:40]}' is not a tag name git accepts.", field=field)
    return value


def _check_repository(product: Product, repository: Repository | None) -> None:
    if repository is not None and repository.product_id not in (None, product.pk):
        raise Invalid(
            f"Repository {repository.name} belongs to another product.", field="repository"
        )


def save_notes(release: Release) -> None:
    """Regenerate the notes (unless edited by hand) and save the release."""
    notes.generate(release)
    release.updated_at = timezone.now()
    release.save()


def generate_notes(release: Release) -> Release:
    """The notes written again from the contents, unless someone edited them by hand."""
    with transaction.atomic():
        save_notes(release)
    return release


def _version(product: Product, name: str) -> tuple[Version | None, tuple[int, int, int, str]]:
    name = (name or "").strip()
    parsed = semver.parse(name)
    if parsed is None or len(name) > 60:
        raise Invalid(
            f"'{name[:60]}' is not a semantic version (MAJOR.MINOR.PATCH).", field="version"
        )
    existing = product.versions.filter(name=name).first()
    if existing is not None:
        if Release.objects.filter(version=existing).exists():
            raise Conflict(f"{product.name} {name} already has a release.", field="version")
        if existing.released_at is not None:
            raise Conflict(f"{product.name} {name} is already released.", field="version")
    return existing, parsed


def create_release(
    actor: User,
    *,
    product: Product,
    version: str,
    kind: str,
    summary: str = "",
    known_issues: str = "",
    planned_for: dt.date | None = None,
    repository: Repository | None = None,
    from_tag: str = "",
    to_tag: str = "",
) -> Release:
    """Plan a release: its CMDB version is made (or an unreleased one reused) and its kind is
    checked against the versions of its line by semantic version."""
    require_agent(actor)
    summary, known_issues = _text(summary, "summary"), _text(known_issues, "known_issues")
    from_tag, to_tag = _ref(from_tag, "from_tag"), _ref(to_tag, "to_tag")
    _check_repository(product, repository)
    with transaction.atomic():
        existing, (major, minor, patch, prerelease) = _version(product, version)
        numbering.check_kind(product, (major, minor, patch), kind, reusing=existing)
        name = version.strip()
        if existing is None:
            existing = Version.objects.create(
                product=product,
                name=name,
                major=major,
                minor=minor,
                patch=patch,
                prerelease=prerelease,
            )
            events.record(product, "version_added", actor=actor, after={"version": name})
        release = Release.objects.create(
            product=product,
            version=existing,
            kind=kind,
            previous=numbering.previous_release(product, existing),
            summary=summary,
            known_issues=known_issues,
            planned_for=planned_for,
            repository=repository,
            from_tag=from_tag,
            to_tag=to_tag,
        )
        _repoint_followers(release)
        contents.sync_targets(release)
        if repository is not None and to_tag:
            contents.sync_commits(release)
        save_notes(release)
        _record(
            release,
            "created",
            actor,
            after={
                "version": name,
                "kind": kind,
                "previous": release.previous.name if release.previous else None,
            },
        )
    return release


def _repoint_followers(release: Release) -> None:
    """Releases above a newly inserted one (a hotfix ahead of a planned patch) now follow it."""
    if release.previous_id is None:
        followers = Release.objects.filter(product=release.product, previous__isnull=True)
    else:
        followers = Release.objects.filter(previous_id=release.previous_id)
    for other in followers.exclude(pk=release.pk).select_related("version"):
        if semver.key(other.version) > semver.key(release.version):
            other.previous = release
            other.save(update_fields=["previous"])


def update_release(actor: User, release: Release, **changes: Any) -> Release:
    """Summary, known issues, planned date, repository and tags."""
    require_agent(actor)
    allowed = {"summary", "known_issues", "planned_for", "repository", "from_tag", "to_tag"}
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid(f"{sorted(unknown)[0]} cannot be changed here.", field=sorted(unknown)[0])
    for field in ("summary", "known_issues"):
        if field in changes:
            changes[field] = _text(changes[field], field)
    for field in ("from_tag", "to_tag"):
        if field in changes:
            changes[field] = _ref(changes[field], field)
    if "repository" in changes:
        _check_repository(release.product, changes["repository"])
    with transaction.atomic():
        _locked(release)
        contents_fields = {"repository", "from_tag", "to_tag"} & set(changes)
        _check_status(
            release, CONTENT_STATUSES if contents_fields else NOTES_STATUSES, "it can be edited"
        )
        before = snapshot(release)
        for field, value in changes.items():
            setattr(release, field, value)
        if contents_fields:
            contents.sync_commits(release)
        save_notes(release)
        old, new = events.changes(before, snapshot(release))
        if new:
            _record(release, "updated", actor, before=old, after=new)
    return release


def transition(actor: User, release: Release, status: str, *, reason: str = "") -> Release:
    """Move along planned → testing → approved → released, back a step, or withdraw."""
    require_agent(actor)
    if status not in Status.values:
        raise Invalid(f"status must be one of {', '.join(Status.values)}.", field="status")
    if status == Status.APPROVED:
        return approve(actor, release, override_reason=reason)
    if status == Status.RELEASED:
        return publish(actor, release)
    reason = _text(reason, "reason", 2000)
    with transaction.atomic():
        _locked(release)
        current = release.status
        if status not in TRANSITIONS[current]:
            raise Conflict(f"A release cannot move from {current} to {status}.", field="status")
        after: dict[str, Any] = {"status": status}
        if status == Status.WITHDRAWN:
            if not reason:
                raise Invalid("Say why the release is withdrawn.", field="reason")
            if current == Status.RELEASED:
                _require_manager(actor, "withdraw a released release")
            release.withdrawn_reason = after["reason"] = reason
            # The release after it now follows the one before it.
            Release.objects.filter(previous=release).update(previous=release.previous)
        if current == Status.APPROVED:  # approval is revoked; its record stays in the events
            release.approved_at = release.approved_by = None
            release.gate_override_reason = ""
        release.status = status
        if status in CONTENT_STATUSES:  # bugs targeted meanwhile join before testing starts
            contents.sync_targets(release)
        save_notes(release)
        _record(release, "status_changed", actor, before={"status": current}, after=after)
    return release


def approve(actor: User, release: Release, *, override_reason: str = "") -> Release:
    """Approve a release in testing when its quality gate passes; an admin may approve past a
    failing gate with a reason, kept on the release and in the event."""
    require_agent(actor)
    _require_manager(actor, "approve a release")
    override_reason = _text(override_reason, "override_reason", 2000)
    with transaction.atomic():
        _locked(release)
        if release.status != Status.TESTING:
            raise Conflict(
                f"A release cannot move from {release.status} to approved (only from testing).",
                field="status",
            )
        contents.sync_targets(release)  # the gate judges every bug that targets the release
        result = gate.evaluate(release)
        failing = [{"check": c.name, "message": c.message} for c in result.failing]
        if failing and not override_reason:
            raise Conflict(
                "The quality gate fails: " + " ".join(c.message for c in result.failing),
                errors=[{"field": f"gate.{c.name}", "message": c.message} for c in result.failing],
            )
        if failing and not actor.is_admin:
            raise Forbidden(
                "Only an administrator may approve past a failing quality gate.",
                field="override_reason",
            )
        release.status = Status.APPROVED
        release.approved_at = timezone.now()
        release.approved_by = actor
        release.gate_override_reason = override_reason if failing else ""
        save_notes(release)
        _record(
            release,
            "status_changed",
            actor,
            before={"status": Status.TESTING},
            after={"status": Status.APPROVED},
        )
        if failing:
            _record(
                release,
                "gate_overridden",
                actor,
                after={"reason": override_reason, "failing": failing},
            )
    return release


def publish(actor: User, release: Release) -> Release:
    """Ship an approved release: its version is released, and each included bug's line
    records the fix in this version."""
    require_agent(actor)
    with transaction.atomic():
        _locked(release)
        if release.status != Status.APPROVED:
            raise Conflict(
                f"A release cannot move from {release.status} to released (only from approved).",
                field="status",
            )
        now = timezone.now()
        release.status = Status.RELEASED
        release.released_at = now
        release.version.released_at = now
        release.version.save(update_fields=["released_at"])
        save_notes(release)  # the date in the notes' header
        shipped = contents.ship_fixes(release, actor)
        _record(
            release,
            "status_changed",
            actor,
            before={"status": Status.APPROVED},
            after={"status": Status.RELEASED, "bugs": shipped},
            is_public=True,
        )
    return release


def refresh_contents(actor: User, release: Release) -> dict[str, list[str]]:
    """Bugs targeting the release and bugs fixed by commits between its tags, again."""
    require_agent(actor)
    with transaction.atomic():
        _locked(release)
        _check_status(release, CONTENT_STATUSES, "its contents can change")
        added, removed = contents.sync_targets(release)
        more, fewer = contents.sync_commits(release)
        result = {"added": added + more, "removed": removed + fewer}
        save_notes(release)
        if result["added"] or result["removed"]:
            _record(release, "contents_refreshed", actor, after=result)
    return result


def add_bug(actor: User, release: Release, bug: Bug) -> ReleaseBug:
    require_agent(actor)
    with transaction.atomic():
        _locked(release)
        _check_status(release, CONTENT_STATUSES, "bugs can be added")
        if bug.product_id != release.product_id:
            raise Invalid(f"{bug.key} is a bug of another product.", field="bug")
        if release.bug_links.filter(bug=bug).exists():
            raise Conflict(f"{bug.key} is already in {release.name}.", field="bug")
        link = ReleaseBug.objects.create(release=release, bug=bug, source=ReleaseBug.Source.MANUAL)
        save_notes(release)
        _record(release, "bug_added", actor, after={"bug": bug.key})
    return link


def remove_bug(actor: User, release: Release, bug: Bug) -> None:
    """Only bugs added by hand: the others come back from their target or commits."""
    require_agent(actor)
    with transaction.atomic():
        _locked(release)
        _check_status(release, CONTENT_STATUSES, "bugs can be removed")
        link = release.bug_links.filter(bug=bug).first()
        if link is None:
            raise Invalid(f"{bug.key} is not in {release.name}.", field="bug")
        if link.source == ReleaseBug.Source.TARGET:
            raise Conflict(
                f"{bug.key} targets {release.name}: change the bug's target release instead.",
                field="bug",
            )
        if link.source == ReleaseBug.Source.COMMITS:
            raise Conflict(
                f"{bug.key} is fixed by commits between {release.from_tag or 'the start'} and "
                f"{release.to_tag}: change the tags instead.",
                field="bug",
            )
        link.delete()
        save_notes(release)
        _record(release, "bug_removed", actor, before={"bug": bug.key})


def _change_fields(kind: Any, title: Any, description: Any) -> tuple[str, str, str]:
    if kind not in ReleaseChange.Kind.values:
        raise Invalid(f"kind must be one of {', '.join(ReleaseChange.Kind.values)}.", field="kind")
    title = " ".join((title or "").split())
    if not title:
        raise Invalid("A title is required.", field="title")
    if len(title) > 300:
        raise Invalid("The title is longer than 300 characters.", field="title")
    return kind, title, _text(description, "description", 10_000)


def add_change(
    actor: User,
    release: Release,
    *,
    title: str,
    kind: str = ReleaseChange.Kind.IMPROVEMENT,
    description: str = "",
    is_public: bool = True,
) -> ReleaseChange:
    require_agent(actor)
    kind, title, description = _change_fields(kind, title, description)
    with transaction.atomic():
        _locked(release)
        _check_status(release, CONTENT_STATUSES, "changes can be added")
        change = ReleaseChange.objects.create(
            release=release, kind=kind, title=title, description=description, is_public=is_public
        )
        save_notes(release)
        _record(release, "change_added", actor, after={"title": title, "kind": kind})
    return change


def update_change(actor: User, change: ReleaseChange, **fields: Any) -> ReleaseChange:
    require_agent(actor)
    kind, title, description = _change_fields(
        fields.get("kind", change.kind),
        fields.get("title", change.title),
        fields.get("description", change.description),
    )
    with transaction.atomic():
        release = _locked(change.release)
        _check_status(release, CONTENT_STATUSES, "changes can be edited")
        before = {"title": change.title, "kind": change.kind, "is_public": change.is_public}
        change.kind, change.title, change.description = kind, title, description
        change.is_public = bool(fields.get("is_public", change.is_public))
        change.save()
        save_notes(release)
        old, new = events.changes(
            before, {"title": change.title, "kind": change.kind, "is_public": change.is_public}
        )
        _record(release, "change_updated", actor, before=old, after=new)
    return change


def delete_change(actor: User, change: ReleaseChange) -> None:
    require_agent(actor)
    with transaction.atomic():
        release = _locked(change.release)
        _check_status(release, CONTENT_STATUSES, "changes can be removed")
        _record(release, "change_removed", actor, before={"title": change.title})
        change.delete()
        save_notes(release)


def edit_notes(
    actor: User,
    release: Release,
    *,
    customer_notes: str | None = None,
    internal_notes: str | None = None,
) -> Release:
    """Hand-written notes: they are no longer regenerated until someone asks to."""
    require_agent(actor)
    texts = {"customer_notes": customer_notes, "internal_notes": internal_notes}
    given = {k: _text(v, k, 100_000) for k, v in texts.items() if v is not None}
    if not given:
        raise Invalid("Give customer_notes or internal_notes.", field="customer_notes")
    with transaction.atomic():
        _locked(release)
        _check_status(release, NOTES_STATUSES, "its notes can be edited")
        for field, value in given.items():
            setattr(release, field, value)
        release.notes_edited = True
        release.updated_at = timezone.now()
        release.save()
        _record(release, "notes_edited", actor, after={"fields": sorted(given)})
    return release


def regenerate_notes(actor: User, release: Release) -> Release:
    """Back to generated notes: hand edits are replaced."""
    require_agent(actor)
    with transaction.atomic():
        _locked(release)
        _check_status(release, NOTES_STATUSES, "its notes can be regenerated")
        release.notes_edited = False
        save_notes(release)
        _record(release, "notes_regenerated", actor)
    return release


def add_test_run(
    actor: User,
    release: Release,
    *,
    result: str,
    name: str = "tests",
    url: str = "",
    passed: int = 0,
    failed: int = 0,
    skipped: int = 0,
    started_at: dt.datetime | None = None,
    finished_at: dt.datetime | None = None,
) -> TestRun:
    """Test evidence from a CI system (through an agent's or admin's API token)."""
    require_agent(actor)
    if result not in TestRun.Result.values:
        raise Invalid(f"result must be one of {', '.join(TestRun.Result.values)}.", field="result")
    name = " ".join((name or "").split()) or "tests"
    if len(name) > 200:
        raise Invalid("The name is longer than 200 characters.", field="name")
    url = (url or "").strip()
    if url and (not re.match(r"^https?://[^\s]+$", url) or len(url) > 500):
        raise Invalid("url must be an http(s) address of at most 500 characters.", field="url")
    for field, value in (("passed", passed), ("failed", failed), ("skipped", skipped)):
        if not isinstance(value, int) or not 0 <= value <= 10**9:
            raise Invalid(f"{field} must be a count between 0 and 10^9.", field=field)
    if started_at and finished_at and finished_at < started_at:
        raise Invalid("finished_at is before started_at.", field="finished_at")
    with transaction.atomic():
        _locked(release)
        if release.status == Status.WITHDRAWN:
            raise Conflict(f"{release.name} is withdrawn.", field="status")
        run = TestRun.objects.create(
            release=release,
            name=name,
            result=result,
            url=url,
            passed=passed,
            failed=failed,
            skipped=skipped,
            started_at=started_at,
            finished_at=finished_at,
            reported_by=actor,
        )
        if release.status in NOTES_STATUSES:
            save_notes(release)
        _record(
            release,
            "test_run_reported",
            actor,
            after={"name": name, "result": result, "passed": passed, "failed": failed},
        )
    return run


# The brief's name for shipping; `publish` reads better beside a variable called release.
release = publish

__all__ = [
    "Kind",
    "add_bug",
    "add_change",
    "add_test_run",
    "approve",
    "create_release",
    "delete_change",
    "edit_notes",
    "generate_notes",
    "publish",
    "refresh_contents",
    "regenerate_notes",
    "release",
    "remove_bug",
    "transition",
    "update_change",
    "update_release",
]
