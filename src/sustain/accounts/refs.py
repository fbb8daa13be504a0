"""People and teams named from outside (an id, an e-mail, a slug), among those the actor sees."""

from __future__ import annotations

from typing import Any

from sustain.accounts.models import Team, User
from sustain.core import refs


def user(actor: Any, ref: str | int | None, field: str) -> User | None:
    """A user by id or e-mail address (any case)."""
    return refs.resolve(
        actor,
        User.objects.all(),
        ref,
        by=("pk", "email__iexact"),
        field=field,
        missing="No user '{ref}'.",
    )


def required_user(actor: Any, ref: str | int | None, field: str) -> User:
    return refs.require(
        actor,
        User.objects.all(),
        ref,
        by=("pk", "email__iexact"),
        field=field,
        missing="No user '{ref}'.",
        required="An e-mail address or user id is required.",
    )


def team(actor: Any, ref: str | int | None, field: str = "team") -> Team | None:
    """A team by id or slug."""
    return refs.resolve(actor, Team.objects.all(), ref, field=field, missing="No team '{ref}'.")
