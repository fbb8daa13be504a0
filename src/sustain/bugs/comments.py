"""Comments and attachments on bugs (internal unless a comment is made public)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from sustain.accounts.actions import require_agent
from sustain.accounts.models import User
from sustain.bugs.models import Bug, BugAttachment, BugComment
from sustain.core import attachments as files
from sustain.core import events
from sustain.core.errors import Invalid

TEXT_MAX = 100_000


def write_comment(actor: User, bug: Bug, body: str, *, is_public: bool) -> BugComment:
    comment = BugComment.objects.create(bug=bug, author=actor, body=body, is_public=is_public)
    events.record(
        bug,
        "commented" if is_public else "noted",
        actor=actor,
        after={"comment": comment.pk},
        is_public=is_public,
    )
    return comment


def add_comment(
    actor: User,
    bug: Bug,
    body: str,
    *,
    is_public: bool = False,
    uploads: Iterable[tuple[str, bytes]] = (),
) -> BugComment:
    """A comment on the bug: internal unless made public (customers who may see the bug then
    read it)."""
    require_agent(actor)
    body = (body or "").strip()
    if not body:
        raise Invalid("The comment is empty.", field="body")
    if len(body) > TEXT_MAX:
        raise Invalid(f"The comment is longer than {TEXT_MAX} characters.", field="body")
    checked = [files.check(name, content) for name, content in uploads]
    with transaction.atomic():
        comment = write_comment(actor, bug, body, is_public=is_public)
        for upload in checked:
            store_attachment(actor, bug, upload, comment=comment)
        Bug.objects.filter(pk=bug.pk).update(updated_at=comment.created_at)
    return comment


def store_attachment(
    actor: User, bug: Bug, upload: files.CheckedFile, *, comment: BugComment | None
) -> BugAttachment:
    # Bug attachments are for staff: the timeline entry is internal.
    return files.store(
        BugAttachment, actor, bug, upload, event_public=False, bug=bug, comment=comment
    )


def add_attachment(actor: User, bug: Bug, filename: str, content: bytes) -> BugAttachment:
    """A file on the bug (internal: bug attachments are for staff), checked as on tickets."""
    require_agent(actor)
    upload = files.check(filename, content)
    with transaction.atomic():
        attachment = store_attachment(actor, bug, upload, comment=None)
        Bug.objects.filter(pk=bug.pk).update(updated_at=timezone.now())
    return attachment
