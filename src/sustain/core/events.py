"""The event log: who changed what, from what, to what, in which request."""

from __future__ import annotations

from typing import Any

from django.db import models

from sustain.core import compiled, context
from sustain.core.models import Event


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Keep only the keys whose value differs, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(
    target: models.Model,
    verb: str,
    *,
    actor: Any = None,
    before: dict | None = None,
    after: dict | None = None,
    is_public: bool = True,
    organization_id: int | None = None,
) -> Event:
    """Write one event inside the caller's transaction."""
    if organization_id is None:
        organization_id = getattr(target, "organization_id", None)
    event = Event(
        actor=actor if getattr(actor, "pk", None) else None,
        request_id=context.request_id.get(),
        organization_id=organization_id,
        target_type=target._meta.label_lower,
        target_id=target.pk,
        verb=verb,
        before=before or {},
        after=after or {},
        is_public=is_public,
    )
    return compiled.insert([event], signals=True)[
        0
    ]  # one event per change: the statement built once


def for_target(target: models.Model) -> models.QuerySet[Event]:
    """Events of one object, oldest first."""
    return Event.objects.filter(target_type=target._meta.label_lower, target_id=target.pk).order_by(
        "id"
    )
