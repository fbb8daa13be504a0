"""The ticket status workflow and the priority matrix."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from sustain.desk.models import Level, PriorityRule, Status

TRANSITIONS: dict[str, set[str]] = {
    Status.NEW: {Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CANCELLED},
    Status.OPEN: {Status.PENDING, Status.RESOLVED, Status.CANCELLED},
    Status.PENDING: {Status.OPEN, Status.RESOLVED, Status.CANCELLED},
    Status.RESOLVED: {Status.CLOSED, Status.OPEN},
    Status.CLOSED: {Status.OPEN},
    Status.CANCELLED: {Status.OPEN},
}

# What a customer may do to a ticket of theirs: reopen or close a resolved one, withdraw one.
CUSTOMER_TRANSITIONS: dict[str, set[str]] = {
    Status.NEW: {Status.CANCELLED},
    Status.OPEN: {Status.CANCELLED},
    Status.PENDING: {Status.CANCELLED},
    Status.RESOLVED: {Status.CLOSED, Status.OPEN},
}

# The status told to customers in words (in the reader's language, where translated).
CUSTOMER_WORDS: dict[str, Any] = {
    Status.NEW: _("Received: we will look at it shortly."),
    Status.OPEN: _("In progress: an agent is working on it."),
    Status.PENDING: _("Waiting for your reply."),
    Status.RESOLVED: _("Resolved: reply if the problem is still there."),
    Status.CLOSED: _("Closed."),
    Status.CANCELLED: _("Cancelled."),
}

DEFAULT_MATRIX: dict[tuple[int, int], int] = {
    (Level.HIGH, Level.HIGH): 1,
    (Level.HIGH, Level.MEDIUM): 2,
    (Level.MEDIUM, Level.HIGH): 2,
    (Level.HIGH, Level.LOW): 3,
    (Level.MEDIUM, Level.MEDIUM): 3,
    (Level.LOW, Level.HIGH): 3,
    (Level.MEDIUM, Level.LOW): 4,
    (Level.LOW, Level.MEDIUM): 4,
    (Level.LOW, Level.LOW): 4,
}


def allowed_transitions(status: str, *, customer: bool = False) -> set[str]:
    table = CUSTOMER_TRANSITIONS if customer else TRANSITIONS
    return set(table.get(status, set()))


def priority_for(impact: int, urgency: int) -> int:
    """The matrix's priority; the configured cell when there is one, else the default."""
    # A plain query: the matrix's small-integer columns defeat core.compiled's markers (out of
    # their range Django answers with no rows; inside it PostgreSQL's adapter wraps them).
    rule = PriorityRule.objects.filter(impact=impact, urgency=urgency).first()
    if rule is not None:
        return rule.priority
    return DEFAULT_MATRIX[(impact, urgency)]
