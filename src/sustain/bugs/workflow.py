"""The bug status workflow: which moves are legal, and what customers are told of each status."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from sustain.bugs.models import OPEN_STATUSES, Bug, Status
from sustain.bugs.similar import index as similar_index

# A move into `duplicate` goes through mark_duplicate (it needs the original); it is listed so
# that the 409 names it, and transition() refuses it with a pointer to the right door.
TRANSITIONS: dict[str, set[str]] = {
    Status.NEW: {
        Status.TRIAGED,
        Status.IN_PROGRESS,
        Status.FIXED,
        Status.WONT_FIX,
        Status.CANNOT_REPRODUCE,
        Status.DUPLICATE,
    },
    Status.TRIAGED: {
        Status.IN_PROGRESS,
        Status.FIXED,
        Status.WONT_FIX,
        Status.CANNOT_REPRODUCE,
        Status.DUPLICATE,
    },
    Status.IN_PROGRESS: {
        Status.TRIAGED,
        Status.FIXED,
        Status.WONT_FIX,
        Status.CANNOT_REPRODUCE,
        Status.DUPLICATE,
    },
    Status.FIXED: {Status.VERIFIED, Status.CLOSED, Status.TRIAGED, Status.IN_PROGRESS},
    Status.VERIFIED: {Status.CLOSED, Status.TRIAGED, Status.IN_PROGRESS},
    Status.CLOSED: {Status.TRIAGED, Status.IN_PROGRESS},
    Status.WONT_FIX: {Status.TRIAGED, Status.IN_PROGRESS},
    Status.CANNOT_REPRODUCE: {Status.TRIAGED, Status.IN_PROGRESS},
    # Undoing a wrong duplicate: back to the triaged queue, duplicate_of cleared.
    Status.DUPLICATE: {Status.TRIAGED},
}

# Moving from one of these back to triaged / in progress is a reopen.
DONE_STATUSES = {
    Status.FIXED,
    Status.VERIFIED,
    Status.CLOSED,
    Status.WONT_FIX,
    Status.CANNOT_REPRODUCE,
    Status.DUPLICATE,
}
# Out of the work queue for good (closed_at is set on entering one).
TERMINAL_STATUSES = {Status.CLOSED, Status.WONT_FIX, Status.CANNOT_REPRODUCE, Status.DUPLICATE}
# A reopen of one of these is a regression: the fix was confirmed, and the bug came back.
CONFIRMED_FIXED = {Status.VERIFIED, Status.CLOSED}

CUSTOMER_WORDS: dict[str, Any] = {
    Status.NEW: _("Reported: the team will look at it."),
    Status.TRIAGED: _("Confirmed: waiting to be worked on."),
    Status.IN_PROGRESS: _("Being fixed."),
    Status.FIXED: _("Fixed: the fix will reach you with a release."),
    Status.VERIFIED: _("Fixed and verified: the fix will reach you with a release."),
    Status.CLOSED: _("Closed."),
    Status.WONT_FIX: _("Will not be fixed."),
    Status.CANNOT_REPRODUCE: _("Could not be reproduced."),
    Status.DUPLICATE: _("Tracked under another bug."),
}


def allowed_transitions(status: str) -> set[str]:
    return set(TRANSITIONS.get(status, set()))


def enter(bug: Bug, status: str, now: Any) -> None:
    """Set the status and the timestamps that go with it."""
    if bug.status == Status.NEW and status != Status.NEW and bug.triaged_at is None:
        bug.triaged_at = now  # leaving "new" stops the triage clock
    was_open, bug.status = bug.status in OPEN_STATUSES, status
    similar_index.refresh(bug, text_changed=False, was_open=was_open)
    if status == Status.FIXED:
        bug.fixed_at = now
    elif status == Status.VERIFIED:
        bug.verified_at = now
    if status in TERMINAL_STATUSES:
        bug.closed_at = now
    elif status in OPEN_STATUSES:
        bug.closed_at = bug.verified_at = bug.fixed_at = None  # reopened: the fix did not hold
