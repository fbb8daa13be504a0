"""Turn references from outside (slug, e-mail, id, key) into rows the actor may see."""

from __future__ import annotations

from typing import Any

from sustain.accounts.models import Team, User
from sustain.cmdb.models import ConfigItem
from sustain.core.errors import Invalid
from sustain.core.ids import as_id
from sustain.core.tenancy import visible
from sustain.desk.models import Ticket


def user(actor: Any, ref: str | int | None, field: str) -> User | None:
    if ref in (None, ""):
        return None
    ref = str(ref)
    qs = visible(User.objects.all(), actor)
    pk = as_id(ref)
    found = qs.filter(pk=pk).first() if pk is not None else qs.filter(email__iexact=ref).first()
    if found is None:
        raise Invalid(f"No user '{ref}'.", field=field)
    return found


def required_user(actor: Any, ref: str | int | None, field: str) -> User:
    found = user(actor, ref, field)
    if found is None:
        raise Invalid("An e-mail address or user id is required.", field=field)
    return found


def team(actor: Any, ref: str | int | None, field: str = "team") -> Team | None:
    if ref in (None, ""):
        return None
    ref = str(ref)
    qs = visible(Team.objects.all(), actor)
    pk = as_id(ref)
    found = qs.filter(pk=pk).first() if pk is not None else qs.filter(slug=ref).first()
    if found is None:
        raise Invalid(f"No team '{ref}'.", field=field)
    return found


def config_item(actor: Any, ref: int | None, field: str = "affected_ci") -> ConfigItem | None:
    if ref is None:
        return None
    found = visible(ConfigItem.objects.all(), actor).filter(pk=ref).first()
    if found is None:
        raise Invalid(f"No configuration item {ref}.", field=field)
    return found


def required_ticket(actor: Any, key: str | None, field: str) -> Ticket:
    found = ticket(actor, key, field)
    if found is None:
        raise Invalid("A ticket key is required.", field=field)
    return found


def ticket(actor: Any, key: str | None, field: str) -> Ticket | None:
    if not key:
        return None
    found = visible(Ticket.objects.all(), actor).filter(key=key.upper()).first()
    if found is None:
        raise Invalid(f"No ticket {key}.", field=field)
    return found
