"""Tickets named from outside (a key such as "ACME-12"), among those the actor sees.

People, teams and configuration items have their own helpers (`accounts.refs`, `cmdb.refs`);
all of them go through `core.refs`."""

from __future__ import annotations

from typing import Any

from sustain.core import refs
from sustain.core.errors import Invalid
from sustain.desk.models import Ticket


def ticket(actor: Any, key: str | None, field: str) -> Ticket | None:
    if not key:
        return None
    return refs.resolve(
        actor,
        Ticket.objects.all(),
        key,
        by=("key",),
        clean=str.upper,
        field=field,
        missing="No ticket {ref}.",
    )


def required_ticket(actor: Any, key: str | None, field: str) -> Ticket:
    found = ticket(actor, key, field)
    if found is None:
        raise Invalid("A ticket key is required.", field=field)
    return found
