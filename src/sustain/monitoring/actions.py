"""Every change to monitoring goes through these functions (API, UI, admin, worker).

Topic modules do the work and import each other directly; this module holds the source and
mapping edits and re-exports the rest, for the doors.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from sustain.accounts.models import Organization, User
from sustain.cmdb.models import ConfigItem
from sustain.core import events, tenancy
from sustain.core.errors import Conflict, Forbidden, Invalid, refuse_unknown
from sustain.desk.models import Level
from sustain.monitoring import alertmanager
from sustain.monitoring.alerts import Outcome, Signal, receive, release_sweep, stable_sweep
from sustain.monitoring.heartbeats import (
    create_heartbeat,
    delete_heartbeat,
    heartbeat_sweep,
    pause,
    ping,
    resume,
    update_heartbeat,
)
from sustain.monitoring.models import MachineToken, SeverityMapping, Source
from sustain.monitoring.probe_runs import run_due
from sustain.monitoring.probes import (
    create_probe,
    delete_probe,
    pause_probe,
    resume_probe,
    run_now,
    update_probe,
)
from sustain.monitoring.scrapes import (
    create_scrape_job,
    delete_scrape_job,
    pause_scrape_job,
    resume_scrape_job,
    scrape_now,
    update_scrape_job,
)
from sustain.monitoring.tokens import create_machine_token, revoke_machine_token
from sustain.monitoring.windows import create_window

__all__ = [
    "Outcome",
    "Signal",
    "create_heartbeat",
    "create_machine_token",
    "create_probe",
    "create_scrape_job",
    "create_source",
    "create_window",
    "delete_heartbeat",
    "delete_probe",
    "delete_scrape_job",
    "heartbeat_sweep",
    "pause",
    "pause_probe",
    "pause_scrape_job",
    "ping",
    "receive",
    "receive_alertmanager",
    "release_sweep",
    "resume",
    "resume_probe",
    "resume_scrape_job",
    "revoke_machine_token",
    "run_due",
    "run_now",
    "scrape_now",
    "set_severity",
    "stable_sweep",
    "update_heartbeat",
    "update_probe",
    "update_scrape_job",
    "update_source",
]

NAME_MAX = 200
SOURCE_SETTINGS = (
    "resolve_incidents",
    "reopen_within_minutes",
    "flap_changes",
    "flap_window_minutes",
    "stable_minutes",
)
MINUTES_MAX = 7 * 24 * 60


def require_manager(actor: User) -> None:
    if not (actor.is_manager or actor.is_admin):
        raise Forbidden("Only managers and administrators may change monitoring.")


def check_organization(actor: User, organization: Organization) -> None:
    if not tenancy.can_see_organization(actor, organization.pk):
        raise Forbidden("You may not manage this organization's monitoring.")


def _check_item(organization: Organization, item: ConfigItem | None) -> None:
    if item is not None and item.organization_id != organization.pk:
        raise Invalid(
            "The configuration item belongs to another organization.", field="config_item"
        )


def _check_settings(changes: dict[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "resolve_incidents":
            if not isinstance(value, bool):
                raise Invalid("resolve_incidents must be true or false.", field=name)
            checked[name] = value
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MINUTES_MAX:
            raise Invalid(f"{name} must be a whole number from 0 to {MINUTES_MAX}.", field=name)
        if name == "flap_changes" and value < 2:
            raise Invalid("flap_changes must be at least 2.", field=name)
        if name in ("flap_window_minutes", "stable_minutes") and value < 1:
            raise Invalid(f"{name} must be at least 1.", field=name)
        checked[name] = value
    return checked


def create_source(
    actor: User,
    organization: Organization,
    *,
    name: str,
    kind: str = Source.Kind.ALERTMANAGER,
    config_item: ConfigItem | None = None,
    **settings: Any,
) -> Source:
    """A source of alerts for `organization` (managers and admins)."""
    require_manager(actor)
    check_organization(actor, organization)
    refuse_unknown(settings, SOURCE_SETTINGS, "Unknown source setting: {names}.")
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise Invalid(f"Give the source a name of at most {NAME_MAX} characters.", field="name")
    if kind not in Source.Kind.values:
        raise Invalid(f"kind must be one of {', '.join(Source.Kind.values)}.", field="kind")
    _check_item(organization, config_item)
    checked = _check_settings(settings)
    try:
        with transaction.atomic():
            source = Source.objects.create(
                organization=organization, name=name, kind=kind, config_item=config_item, **checked
            )
            events.record(source, "created", actor=actor, after={"name": name, "kind": kind})
    except IntegrityError:
        raise Conflict(
            f"{organization.name} already has a {kind} source named {name}.", field="name"
        ) from None
    return source


def update_source(actor: User, source: Source, changes: dict[str, Any]) -> Source:
    require_manager(actor)
    check_organization(actor, source.organization)
    refuse_unknown(changes, ("name", "config_item", *SOURCE_SETTINGS))
    if "name" in changes:
        name = str(changes["name"] or "").strip()
        if not name or len(name) > NAME_MAX:
            raise Invalid(f"Give the source a name of at most {NAME_MAX} characters.", field="name")
        source.name = name
    if "config_item" in changes:
        _check_item(source.organization, changes["config_item"])
        source.config_item = changes["config_item"]
    for name, value in _check_settings(
        {k: v for k, v in changes.items() if k in SOURCE_SETTINGS}
    ).items():
        setattr(source, name, value)
    try:
        with transaction.atomic():
            source.save()
            events.record(source, "updated", actor=actor, after={"changed": sorted(changes)})
    except IntegrityError:
        raise Conflict(f"A source named {source.name} exists already.", field="name") from None
    return source


def set_severity(actor: User, severity: str, impact: int, urgency: int) -> SeverityMapping:
    """Map an alert severity to the impact and urgency of the incidents it opens (admins)."""
    if not actor.is_admin:
        raise Forbidden("Only administrators may change the severity mapping.")
    severity = (severity or "").strip().lower()
    if not severity or len(severity) > 40:
        raise Invalid(
            "Give the severity as a short word (at most 40 characters).", field="severity"
        )
    for field, value in (("impact", impact), ("urgency", urgency)):
        if value not in Level.values:
            raise Invalid(f"{field} must be 1 (high), 2 (medium) or 3 (low).", field=field)
    row, _ = SeverityMapping.objects.update_or_create(
        severity=severity, defaults={"impact": impact, "urgency": urgency}
    )
    return row


def alertmanager_source(token: MachineToken, receiver: Any) -> Source:
    """The token's own source, or the organization's Alertmanager source named after the
    receiver (made on first delivery)."""
    if token.source is not None:
        if token.source.kind != Source.Kind.ALERTMANAGER:
            raise Forbidden("This token belongs to a source that is not an Alertmanager.")
        return token.source
    name = receiver if isinstance(receiver, str) and receiver.strip() else "Alertmanager"
    source, _ = Source.objects.get_or_create(
        organization=token.organization,
        kind=Source.Kind.ALERTMANAGER,
        name=name.strip()[:NAME_MAX],
        defaults={"config_item": token.config_item},
    )
    return source


def receive_alertmanager(
    token: MachineToken, body: bytes, now: datetime | None = None
) -> dict[str, int]:
    """One webhook delivery: read whole, then each alert applied; counts per outcome."""
    data = alertmanager.parse(body)
    items = alertmanager.items_named(token.organization_id, alertmanager.item_names(data))
    found = alertmanager.signals(data, items)
    source = alertmanager_source(token, data.get("receiver"))
    counts: dict[str, int] = {"alerts": len(found)}
    for signal in found:
        if signal.config_item is None and token.config_item is not None:
            signal = Signal(**{**signal.__dict__, "config_item": token.config_item})
        outcome = receive(source, signal, now)
        counts[outcome.what] = counts.get(outcome.what, 0) + 1
    return counts
