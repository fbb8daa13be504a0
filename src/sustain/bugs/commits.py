"""Fixes and references from commits: called by the VCS webhook and scanner (bugs/vcs), which
write the Commit and BugCommit rows themselves. Re-exported by bugs/actions.py."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from sustain.accounts.actions import require_agent
from sustain.accounts.models import User
from sustain.bugs import notifications, workflow
from sustain.bugs.models import OPEN_STATUSES, Bug, BugLine, LineStatus, Status
from sustain.core import events
from sustain.core.errors import Conflict
from sustain.core.locking import locked, locked_or_created


def mark_fixed_by_commit(
    actor: User, bug: Bug, commit: Any, *, branch: str, line: tuple[int, int] | None
) -> bool:
    """`Fixes BUG-n` in `commit` on `branch`: the bug is fixed (when still new, triaged or in
    progress) and, with `line`, that release line's row is fixed by the commit (unless already
    fixed or verified). Idempotent: a commit seen again changes and records nothing. Returns
    whether anything changed. The BugCommit row itself is the caller's."""
    require_agent(actor)
    # A commit of another product's repository does not fix this bug, nor its release lines
    # (they are that product's): the link stays, the state does not move.
    repository = getattr(commit, "repository", None)
    if repository is not None and repository.product_id not in (None, bug.product_id):
        raise Conflict(
            f"{commit.sha[:12]} is in {repository.name}, a repository of another product.",
            field="bug",
        )
    with transaction.atomic():
        locked(bug)
        changed: dict[str, Any] = {}
        old_status = bug.status
        now = timezone.now()
        if bug.status in OPEN_STATUSES:
            workflow.enter(bug, Status.FIXED, now)
            bug.updated_at = now
            bug.save(update_fields=["status", "fixed_at", "triaged_at", "closed_at", "updated_at"])
            changed["status"] = Status.FIXED
        if line is not None:
            major, minor = line
            row, created = locked_or_created(
                BugLine.objects.all(),
                bug=bug,
                major=major,
                minor=minor,
                defaults={"status": LineStatus.FIXED, "fixed_by": commit, "updated_at": now},
            )
            if created:
                changed["line"] = row.line
            elif row.status not in (LineStatus.FIXED, LineStatus.VERIFIED):
                row.status, row.fixed_by, row.updated_at = LineStatus.FIXED, commit, now
                row.save(update_fields=["status", "fixed_by", "updated_at"])
                changed["line"] = row.line
        if not changed:
            return False
        event = events.record(
            bug,
            "fixed_by_commit",
            actor=actor,
            before={"status": old_status},
            after={"sha": commit.sha, "branch": branch, **changed},
            is_public=False,
        )
        if "status" in changed:
            notifications.status_changed(bug, actor, event, old_status, Status.FIXED)
    return True


def link_commit(actor: User, bug: Bug, commit: Any, *, branch: str) -> bool:
    """`Refs BUG-n`: an event on the bug's timeline, once per commit and branch."""
    require_agent(actor)
    with transaction.atomic():
        seen = events.for_target(bug).filter(
            verb="commit_referenced", after__sha=commit.sha, after__branch=branch
        )
        if seen.exists():
            return False
        events.record(
            bug,
            "commit_referenced",
            actor=actor,
            after={"sha": commit.sha, "branch": branch},
            is_public=False,
        )
    return True
