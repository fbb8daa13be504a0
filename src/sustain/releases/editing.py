"""Filling a release: its bugs and changes, hand-written notes, test evidence from CI.

Contents are settled by approval; notes stay editable until the release ships.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from sustain.accounts.actions import require_agent
from sustain.accounts.models import User
from sustain.bugs.models import Bug
from sustain.core import events
from sustain.core.errors import Conflict, Invalid
from sustain.core.locking import locked
from sustain.releases import contents
from sustain.releases.common import (
    CONTENT_STATUSES,
    LOCK_WITH,
    NOTES_STATUSES,
    check_status,
    clean_text,
    record,
    save_notes,
)
from sustain.releases.models import Release, ReleaseBug, ReleaseChange, Status, TestRun


def refresh_contents(actor: User, release: Release) -> dict[str, list[str]]:
    """Bugs targeting the release and bugs fixed by commits between its tags, again."""
    require_agent(actor)
    with transaction.atomic():
        locked(release, *LOCK_WITH)
        check_status(release, CONTENT_STATUSES, "its contents can change")
        added, removed = contents.sync_targets(release)
        more, fewer = contents.sync_commits(release)
        result = {"added": added + more, "removed": removed + fewer}
        save_notes(release)
        if result["added"] or result["removed"]:
            record(release, "contents_refreshed", actor, after=result)
    return result


def add_bug(actor: User, release: Release, bug: Bug) -> ReleaseBug:
    require_agent(actor)
    with transaction.atomic():
        locked(release, *LOCK_WITH)
        check_status(release, CONTENT_STATUSES, "bugs can be added")
        if bug.product_id != release.product_id:
            raise Invalid(f"{bug.key} is a bug of another product.", field="bug")
        if release.bug_links.filter(bug=bug).exists():
            raise Conflict(f"{bug.key} is already in {release.name}.", field="bug")
        link = ReleaseBug.objects.create(release=release, bug=bug, source=ReleaseBug.Source.MANUAL)
        save_notes(release)
        record(release, "bug_added", actor, after={"bug": bug.key})
    return link


def remove_bug(actor: User, release: Release, bug: Bug) -> None:
    """Only bugs added by hand: the others come back from their target or commits."""
    require_agent(actor)
    with transaction.atomic():
        locked(release, *LOCK_WITH)
        check_status(release, CONTENT_STATUSES, "bugs can be removed")
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
        record(release, "bug_removed", actor, before={"bug": bug.key})


def _change_fields(kind: Any, title: Any, description: Any) -> tuple[str, str, str]:
    if kind not in ReleaseChange.Kind.values:
        raise Invalid(f"kind must be one of {', '.join(ReleaseChange.Kind.values)}.", field="kind")
    title = " ".join((title or "").split())
    if not title:
        raise Invalid("A title is required.", field="title")
    if len(title) > 300:
        raise Invalid("The title is longer than 300 characters.", field="title")
    return kind, title, clean_text(description, "description", 10_000)


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
        locked(release, *LOCK_WITH)
        check_status(release, CONTENT_STATUSES, "changes can be added")
        change = ReleaseChange.objects.create(
            release=release, kind=kind, title=title, description=description, is_public=is_public
        )
        save_notes(release)
        record(release, "change_added", actor, after={"title": title, "kind": kind})
    return change


def update_change(actor: User, change: ReleaseChange, **fields: Any) -> ReleaseChange:
    require_agent(actor)
    kind, title, description = _change_fields(
        fields.get("kind", change.kind),
        fields.get("title", change.title),
        fields.get("description", change.description),
    )
    with transaction.atomic():
        release = locked(change.release, *LOCK_WITH)
        check_status(release, CONTENT_STATUSES, "changes can be edited")
        before = {"title": change.title, "kind": change.kind, "is_public": change.is_public}
        change.kind, change.title, change.description = kind, title, description
        change.is_public = bool(fields.get("is_public", change.is_public))
        change.save()
        save_notes(release)
        old, new = events.changes(
            before, {"title": change.title, "kind": change.kind, "is_public": change.is_public}
        )
        record(release, "change_updated", actor, before=old, after=new)
    return change


def delete_change(actor: User, change: ReleaseChange) -> None:
    require_agent(actor)
    with transaction.atomic():
        release = locked(change.release, *LOCK_WITH)
        check_status(release, CONTENT_STATUSES, "changes can be removed")
        record(release, "change_removed", actor, before={"title": change.title})
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
    given = {k: clean_text(v, k, 100_000) for k, v in texts.items() if v is not None}
    if not given:
        raise Invalid("Give customer_notes or internal_notes.", field="customer_notes")
    with transaction.atomic():
        locked(release, *LOCK_WITH)
        check_status(release, NOTES_STATUSES, "its notes can be edited")
        for field, value in given.items():
            setattr(release, field, value)
        release.notes_edited = True
        release.updated_at = timezone.now()
        release.save()
        record(release, "notes_edited", actor, after={"fields": sorted(given)})
    return release


def regenerate_notes(actor: User, release: Release) -> Release:
    """Back to generated notes: hand edits are replaced."""
    require_agent(actor)
    with transaction.atomic():
        locked(release, *LOCK_WITH)
        check_status(release, NOTES_STATUSES, "its notes can be regenerated")
        release.notes_edited = False
        save_notes(release)
        record(release, "notes_regenerated", actor)
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
        locked(release, *LOCK_WITH)
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
        record(
            release,
            "test_run_reported",
            actor,
            after={"name": name, "result": result, "passed": passed, "failed": failed},
        )
    return run
