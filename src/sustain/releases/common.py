"""What every release action shares: the workflow's moves, which statuses allow which edits,
input checks, the row lock, events, and notes regenerated on every change."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from sustain.accounts.models import User
from sustain.bugs.models import Repository
from sustain.cmdb.models import Product
from sustain.core import events
from sustain.core.errors import Conflict, Forbidden, Invalid
from sustain.releases import notes
from sustain.releases.models import Release, Status

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


def record(release: Release, verb: str, actor: Any, **kwargs: Any) -> None:
    kwargs.setdefault("is_public", False)
    events.record(release, verb, actor=actor, **kwargs)


def require_manager(actor: User, what: str) -> None:
    if not actor.is_manager:
        raise Forbidden(f"Only managers and administrators may {what}.")


# Read with the row when an action locks it: `locked(release, *LOCK_WITH)`.
LOCK_WITH = ("version", "product")


def check_status(release: Release, allowed: tuple[str, ...], doing: str) -> None:
    if release.status not in allowed:
        raise Conflict(
            f"{release.name} is {release.status}: {doing} only while {' or '.join(allowed)}.",
            field="status",
        )


def clean_text(value: Any, field: str, limit: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise Invalid(f"{field} is longer than {limit} characters.", field=field)
    return value


def clean_ref(value: str, field: str) -> str:
    value = (value or "").strip()
    if value and not _REF.match(value):
        raise Invalid(f"'{value[:40]}' is not a tag name git accepts.", field=field)
    return value


def check_repository(product: Product, repository: Repository | None) -> None:
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
