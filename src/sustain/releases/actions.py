"""Every change to a release goes through these functions, whichever door it came through.

Agents plan releases, fill them and report test runs; managers and admins approve them
through the quality gate, and only an admin may approve past a failing gate, with a reason
that stays on the record. Each action writes in one transaction and records its event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from sustain.accounts.actions import require_agent
from sustain.accounts.models import User
from sustain.bugs.models import Repository
from sustain.cmdb import semver
from sustain.cmdb.actions import write_version
from sustain.cmdb.models import Product, Version
from sustain.core import events
from sustain.core.errors import Conflict, Forbidden, Invalid, refuse_unknown
from sustain.core.locking import locked
from sustain.releases import contents, gate, numbering
from sustain.releases.common import (
    CONTENT_STATUSES,
    LOCK_WITH,
    NOTES_STATUSES,
    TRANSITIONS,
    allowed_transitions,
    check_repository,
    check_status,
    clean_ref,
    clean_text,
    generate_notes,
    record,
    require_manager,
    save_notes,
    snapshot,
)
from sustain.releases.editing import (
    add_bug,
    add_change,
    add_test_run,
    delete_change,
    edit_notes,
    refresh_contents,
    regenerate_notes,
    remove_bug,
    update_change,
)
from sustain.releases.models import Kind, Release, Status


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
    summary, known_issues = clean_text(summary, "summary"), clean_text(known_issues, "known_issues")
    from_tag, to_tag = clean_ref(from_tag, "from_tag"), clean_ref(to_tag, "to_tag")
    check_repository(product, repository)
    with transaction.atomic():
        existing, parsed = _version(product, version)
        numbering.check_kind(product, parsed[:3], kind, reusing=existing)
        name = version.strip()
        if existing is None:
            existing = write_version(actor, product, name=name, parsed=parsed)
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
        record(
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
    refuse_unknown(changes, allowed, "{first} cannot be changed here.")
    for field in ("summary", "known_issues"):
        if field in changes:
            changes[field] = clean_text(changes[field], field)
    for field in ("from_tag", "to_tag"):
        if field in changes:
            changes[field] = clean_ref(changes[field], field)
    if "repository" in changes:
        check_repository(release.product, changes["repository"])
    with transaction.atomic():
        locked(release, *LOCK_WITH)
        contents_fields = {"repository", "from_tag", "to_tag"} & set(changes)
        check_status(
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
            record(release, "updated", actor, before=old, after=new)
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
    reason = clean_text(reason, "reason", 2000)
    with transaction.atomic():
        locked(release, *LOCK_WITH)
        current = release.status
        if status not in TRANSITIONS[current]:
            raise Conflict(f"A release cannot move from {current} to {status}.", field="status")
        after: dict[str, Any] = {"status": status}
        if status == Status.WITHDRAWN:
            if not reason:
                raise Invalid("Say why the release is withdrawn.", field="reason")
            if current == Status.RELEASED:
                require_manager(actor, "withdraw a released release")
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
        record(release, "status_changed", actor, before={"status": current}, after=after)
    return release


def approve(actor: User, release: Release, *, override_reason: str = "") -> Release:
    """Approve a release in testing when its quality gate passes; an admin may approve past a
    failing gate with a reason, kept on the release and in the event."""
    require_agent(actor)
    require_manager(actor, "approve a release")
    override_reason = clean_text(override_reason, "override_reason", 2000)
    with transaction.atomic():
        locked(release, *LOCK_WITH)
        if release.status != Status.TESTING:
            raise Conflict(
                f"A release cannot move from {release.status} to approved (only from testing).",
                field="status",
            )
        contents.sync_targets(release)  # the gate judges every bug that targets the release
        result = gate.evaluate(release)
        failing = [{"check": c.name, "message": c.message} for c in result.failing]
        if failing and not override_reason and actor.is_admin:  # they may override: ask why
            raise Invalid(
                "Say why you approve past the failing quality gate: the reason is kept on the "
                "release.",
                errors=[
                    {"field": "override_reason", "message": "Give the reason for the override."},
                    *({"field": f"gate.{c.name}", "message": c.message} for c in result.failing),
                ],
            )
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
        record(
            release,
            "status_changed",
            actor,
            before={"status": Status.TESTING},
            after={"status": Status.APPROVED},
        )
        if failing:
            record(
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
        locked(release, *LOCK_WITH)
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
        record(
            release,
            "status_changed",
            actor,
            before={"status": Status.APPROVED},
            after={"status": Status.RELEASED, "bugs": shipped},
            is_public=True,
        )
    return release


# The brief's name for shipping; `publish` reads better beside a variable called release.
release = publish

__all__ = [
    "CONTENT_STATUSES",
    "NOTES_STATUSES",
    "TRANSITIONS",
    "Kind",
    "add_bug",
    "add_change",
    "add_test_run",
    "allowed_transitions",
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
    "save_notes",
    "snapshot",
    "transition",
    "update_change",
    "update_release",
]
