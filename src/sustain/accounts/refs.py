"""People and teams named from outside (an id, an e-mail, a slug), among those the actor sees."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from sustain.accounts.models import Team, User
from sustain.core import refs
from sustain.core.compiled import IExact, Prepared
from sustain.core.errors import Invalid
from sustain.core.ids import as_id
from sustain.core.tenancy import visibility_key, visible


def _by_email(actor: Any, *, email: str) -> QuerySet[User]:
    return visible(User.objects.all(), actor).filter(email__iexact=email).order_by("pk")[:1]


# An e-mail address is how the API and the mail door name people on every new ticket:
# compiled once per visibility (core.compiled), as refs.find would build it each time.
_BY_EMAIL = Prepared(_by_email, email=IExact("\x01email"))


def user(actor: Any, ref: str | int | None, field: str) -> User | None:
    """A user by id or e-mail address (any case)."""
    if isinstance(ref, str) and ref and as_id(ref) is None:  # only the e-mail lookup applies
        found = _BY_EMAIL.rows(visibility_key(actor), actor, email=ref)
        if not found:
            raise Invalid(f"No user '{ref}'.", field=field)
        return found[0]
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
