"""The ticket status workflow and the priority matrix."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from sustain.core.compiled import Prepared
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


# Read for every new ticket: compiled once (core.compiled).
_RULE = Prepared(
    lambda impact, urgency: PriorityRule.objects.filter(impact=impact, urgency=urgency).order_by(
        "pk"
    )[:1],
    # Within the small-integer columns' range: Django answers a lookup outside a field's range
    # with no rows at all (EmptyResultSet), which would compile into "never a configured cell".
    impact=32_719,
    urgency=32_749,
)


def priority_for(impact: int, urgency: int) -> int:
    """The matrix's priority; the configured cell when there is one, else the default."""
    rules = _RULE.rows(impact=impact, urgency=urgency)
    if rules:
        return rules[0].priority
    return DEFAULT_MATRIX[(impact, urgency)]
