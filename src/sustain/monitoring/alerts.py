"""An alert from any source becomes exactly one incident, and closes it when it clears.

`receive(source, signal)` is the one door: Alertmanager's webhook, heartbeats, probes and
(next) threshold rules all describe what they see as a `Signal` (a fingerprint and a state)
and call it. Each signal is one short transaction:

1. the alert's row is inserted, or found and locked, by its unique (source, fingerprint): two
   deliveries of one alert at once (Alertmanager retries; an HA pair sends each group twice)
   meet on the database's unique key, and the second waits for the first and sees its incident;
2. a repeat of the current state only counts (received, last seen): no noise on the timeline;
3. a change of state is recorded in the alert's history, checked for flapping, and applied to
   the incident: the first firing opens one (severity → impact and urgency by the admin's
   mapping, labels and annotations in its description, channel "monitoring", the alert's
   configuration item as affected item, the source's organization); a resolution adds a note
   and resolves it (or leaves it to an agent, per source); firing again within the source's
   reopen window reopens the same incident, later it opens a new one;
4. an alert that changes state more than `flap_changes` times within `flap_window_minutes`
   is held as flapping: one note, no open/close churn, until `stable_sweep` finds it stable
   for `stable_minutes` and applies the state it settled in.

Deliveries out of order are recognised by time: a firing that started before the resolution
already recorded, or a resolution of an episode older than the current one, only counts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from sustain.accounts.actions import system_actor
from sustain.accounts.models import User
from sustain.cmdb import graph
from sustain.cmdb.models import ConfigItem
from sustain.core.errors import ActionError
from sustain.core.locking import locked
from sustain.desk import actions as desk
from sustain.desk.common import check_parent_owner
from sustain.desk.models import OPEN_STATUSES, Channel, Level, Status, Ticket
from sustain.monitoring import windows
from sustain.monitoring.metrics import ALERTS_RECEIVED
from sustain.monitoring.models import Alert, AlertEvent, SeverityMapping, Source

NAME_MAX = 300
TITLE_MAX = 300
DESCRIPTION_LABELS_MAX = 50  # labels and annotations written into the incident's description
VALUE_MAX = 1000  # characters of one annotation written there
DEFAULT_LEVELS = (Level.MEDIUM, Level.MEDIUM)


@dataclass(frozen=True)
class Signal:
    """What a source says about one alert, already validated by its door."""

    fingerprint: str
    state: str  # Alert.State
    name: str
    starts_at: datetime
    ends_at: datetime | None = None
    severity: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    generator_url: str = ""
    config_item: ConfigItem | None = None


@dataclass(frozen=True)
class Outcome:
    alert: Alert
    what: str  # opened, reopened, resolved, noted, repeat, stale, flapping, recorded, held


def fingerprint_of(labels: dict[str, str]) -> str:
    """A stable fingerprint of a label set, for sources that send none."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def receive(source: Source, signal: Signal, now: datetime | None = None) -> Outcome:
    """Apply one signal of `source`: see the module's docstring."""
    now = now or timezone.now()
    ALERTS_RECEIVED.labels(source_kind=source.kind).inc()
    with transaction.atomic():
        alert, created = _row_for(source, signal, now)
        if created:
            return _first(source, alert, now)
        return _again(source, alert, signal, now)


def _row_for(source: Source, signal: Signal, now: datetime) -> tuple[Alert, bool]:
    """The alert's row, inserted or locked: the unique key decides, never a check-then-insert."""
    try:
        with transaction.atomic():  # a savepoint: a lost race leaves the outer transaction
            return Alert.objects.create(
                source=source,
                organization_id=source.organization_id,
                fingerprint=signal.fingerprint,
                name=signal.name[:NAME_MAX],
                state=signal.state,
                severity=signal.severity,
                labels=signal.labels,
                annotations=signal.annotations,
                config_item=signal.config_item or source.config_item,
                generator_url=signal.generator_url,
                starts_at=signal.starts_at,
                ends_at=signal.ends_at if signal.state == Alert.State.RESOLVED else None,
                first_seen_at=now,
                last_seen_at=now,
                state_changed_at=now,
                resolved_at=now if signal.state == Alert.State.RESOLVED else None,
                changes=[now.isoformat()],
            ), True
    except IntegrityError:
        alert = Alert.objects.get(source=source, fingerprint=signal.fingerprint)
        return locked(alert), False


def _first(source: Source, alert: Alert, now: datetime) -> Outcome:
    _history(alert, alert.state, now)
    if alert.state == Alert.State.RESOLVED:  # resolved before we saw it fire: kept, no incident
        return Outcome(alert, "recorded")
    if _hold(alert, now):
        return Outcome(alert, "held")
    _open_incident(alert, now)
    return Outcome(alert, "opened")


def _hold(alert: Alert, now: datetime) -> bool:
    """Held when a maintenance window covers the alert's item (or what it needs, or the whole
    organization): recorded on the window, no incident, nobody paged, until it ends."""
    found = windows.holding(alert.organization_id, alert.config_item_id, now)
    if found is None:
        return False
    window, until = found
    alert.window, alert.held_until = window, until
    alert.save(update_fields=["window", "held_until"])
    _history(alert, AlertEvent.What.HELD, now, f"{window.name}, until {until:%Y-%m-%d %H:%M} UTC")
    return True


def _again(source: Source, alert: Alert, signal: Signal, now: datetime) -> Outcome:
    alert.received += 1
    alert.last_seen_at = now
    if _stale(alert, signal):
        alert.save(update_fields=["received", "last_seen_at"])
        return Outcome(alert, "stale")
    _refresh_details(alert, signal)
    if signal.state == alert.state:
        alert.save()
        if alert.held_until is not None and alert.held_until <= now:
            return _release(alert, now)
        return Outcome(alert, "repeat")
    return _changed(source, alert, signal, now)


def _stale(alert: Alert, signal: Signal) -> bool:
    """A delivery that is older than what the alert already knows (a retry overtaken)."""
    if signal.state == Alert.State.FIRING and alert.state == Alert.State.RESOLVED:
        return alert.ends_at is not None and signal.starts_at < alert.ends_at
    if signal.state == Alert.State.RESOLVED and alert.state == Alert.State.FIRING:
        return signal.ends_at is not None and signal.ends_at < alert.starts_at
    return False


def _refresh_details(alert: Alert, signal: Signal) -> None:
    alert.name = signal.name[:NAME_MAX]
    alert.severity = signal.severity
    alert.labels, alert.annotations = signal.labels, signal.annotations
    alert.generator_url = signal.generator_url or alert.generator_url
    if signal.config_item is not None:
        alert.config_item = signal.config_item


def _changed(source: Source, alert: Alert, signal: Signal, now: datetime) -> Outcome:
    alert.state, alert.state_changed_at = signal.state, now
    if signal.state == Alert.State.FIRING:
        alert.starts_at, alert.ends_at, alert.resolved_at = signal.starts_at, None, None
    else:
        alert.ends_at, alert.resolved_at = signal.ends_at or now, now
        alert.held_until = None  # resolved inside its window: nothing left to open
    window = timedelta(minutes=source.flap_window_minutes)
    alert.changes = [t for t in alert.changes if datetime.fromisoformat(t) > now - window]
    alert.changes = [*alert.changes, now.isoformat()][-(source.flap_changes + 2) :]
    _history(alert, alert.state, now)
    if alert.is_flapping:
        alert.save()
        return Outcome(alert, "flapping")
    if len(alert.changes) > source.flap_changes:
        return _start_flapping(source, alert, now)
    alert.save()
    if alert.state == Alert.State.FIRING:
        return _fired_again(source, alert, now)
    return _resolved(source, alert, now)


def _fired_again(source: Source, alert: Alert, now: datetime) -> Outcome:
    ticket = alert.ticket
    actor = system_actor()
    if ticket is not None and ticket.status in OPEN_STATUSES:
        _note(actor, ticket, f"The alert {alert.name} is firing again.")
        return Outcome(alert, "noted")
    reopen_by = timedelta(minutes=source.reopen_within_minutes)
    if ticket is not None and ticket.resolved_at and now - ticket.resolved_at <= reopen_by:
        _note(actor, ticket, f"The alert {alert.name} is firing again: reopened.")
        desk.transition(actor, ticket, Status.OPEN)
        return Outcome(alert, "reopened")
    if _hold(alert, now):
        return Outcome(alert, "held")
    _open_incident(alert, now)
    return Outcome(alert, "opened")


def release_sweep(now: datetime | None = None) -> int:
    """Alerts whose maintenance window has ended: still firing, they open their incident at
    once (or are held again by a window that follows). Each claimed with a conditional UPDATE,
    so two workers never open two incidents. Returns how many were released."""
    now = now or timezone.now()
    released = 0
    due = Alert.objects.filter(held_until__lte=now).values_list("pk", "held_until")
    for pk, until in list(due[:500]):
        with transaction.atomic():
            if not Alert.objects.filter(pk=pk, held_until=until).update(held_until=None):
                continue
            alert = locked(Alert.objects.get(pk=pk))
            if alert.state == Alert.State.FIRING:
                _release(alert, now)
                released += 1
    return released


def _release(alert: Alert, now: datetime) -> Outcome:
    alert.held_until = None
    alert.save(update_fields=["held_until"])
    if _hold(alert, now):
        return Outcome(alert, "held")
    _history(alert, AlertEvent.What.RELEASED, now)
    ticket = alert.ticket
    if ticket is not None and ticket.status in OPEN_STATUSES:
        return Outcome(alert, "noted")
    _open_incident(alert, now)
    return Outcome(alert, "opened")


def _resolved(source: Source, alert: Alert, now: datetime) -> Outcome:
    """Recorded always; the incident resolved when the source says so and it is still open."""
    ticket = alert.ticket
    if ticket is None or ticket.status not in OPEN_STATUSES:
        return Outcome(alert, "recorded")
    actor = system_actor()
    if not source.resolve_incidents:
        _note(actor, ticket, f"The alert {alert.name} has cleared; an agent resolves the incident.")
        return Outcome(alert, "noted")
    if _other_alerts_firing(alert):
        _note(actor, ticket, f"The alert {alert.name} has cleared; other alerts still fire.")
        return Outcome(alert, "noted")
    _note(actor, ticket, f"The alert {alert.name} has cleared: resolved.")
    desk.transition(actor, ticket, Status.RESOLVED)
    return Outcome(alert, "resolved")


def _other_alerts_firing(alert: Alert) -> bool:
    return (
        Alert.objects.filter(ticket=alert.ticket, state=Alert.State.FIRING)
        .exclude(pk=alert.pk)
        .exists()
    )


def _start_flapping(source: Source, alert: Alert, now: datetime) -> Outcome:
    """Held as flapping: one incident, open, with one note, until stable again."""
    alert.flapping_since = now
    alert.save()
    _history(alert, AlertEvent.What.FLAPPING, now, f"{len(alert.changes)} changes")
    actor = system_actor()
    ticket = alert.ticket
    message = (
        f"The alert {alert.name} is flapping ({len(alert.changes)} changes within "
        f"{source.flap_window_minutes} min): held open until it is stable for "
        f"{source.stable_minutes} min."
    )
    if ticket is None:
        ticket = _open_incident(alert, now)
    elif ticket.status not in OPEN_STATUSES:
        desk.transition(actor, ticket, Status.OPEN)
    _note(actor, ticket, message)
    return Outcome(alert, "flapping")


def stable_sweep(now: datetime | None = None) -> int:
    """Flapping alerts unchanged for their source's stable time: cleared, and the state they
    settled in applied to the incident. Claimed with a conditional UPDATE, so two workers
    never both apply one. Returns how many were cleared."""
    now = now or timezone.now()
    cleared = 0
    candidates = Alert.objects.filter(flapping_since__isnull=False).select_related("source")
    for alert in candidates.iterator():
        if alert.state_changed_at > now - timedelta(minutes=alert.source.stable_minutes):
            continue
        with transaction.atomic():
            claimed = Alert.objects.filter(
                pk=alert.pk,
                flapping_since=alert.flapping_since,
                state_changed_at=alert.state_changed_at,
            ).update(flapping_since=None, changes=[])
            if not claimed:
                continue
            alert.refresh_from_db()
            _history(alert, AlertEvent.What.STABLE, now)
            _settle(alert.source, alert, now)
            cleared += 1
    return cleared


def _settle(source: Source, alert: Alert, now: datetime) -> None:
    ticket = alert.ticket
    if alert.state == Alert.State.RESOLVED:
        _resolved(source, alert, now)
    elif ticket is not None and ticket.status in OPEN_STATUSES:
        _note(system_actor(), ticket, f"The alert {alert.name} is stable again, still firing.")
    else:
        _fired_again(source, alert, now)


def _open_incident(alert: Alert, now: datetime) -> Ticket:
    """One incident for the alert: a child of the upstream item's incident when the desk's
    rule for parents allows it (the same customer's, or the provider's own), otherwise its
    own incident naming the upstream one."""
    impact, urgency = severity_levels(alert.severity)
    upstream = upstream_incident(alert)
    parent = None
    description = incident_description(alert)
    if upstream is not None:
        try:
            check_parent_owner(alert.organization, upstream)
            parent = upstream
        except ActionError:
            description += f"\n\nUpstream: {upstream.key} ({upstream.title}) is open for an item this one needs."
    ticket = desk.open_ticket(
        system_actor(),
        title=incident_title(alert),
        description=description,
        organization=alert.organization,
        affected_ci=alert.config_item,
        impact=impact,
        urgency=urgency,
        channel=Channel.MONITORING,
        tags=["monitoring"],
        parent=parent,
    )
    Alert.objects.filter(pk=alert.pk).update(ticket=ticket)
    alert.ticket = ticket
    return ticket


def upstream_incident(alert: Alert) -> Ticket | None:
    """The open incident of a firing alert on the nearest item the alert's item needs."""
    if alert.config_item_id is None:
        return None
    distances = graph.upstream([alert.config_item_id])
    if not distances:
        return None
    firing = (
        Alert.objects.filter(
            config_item_id__in=distances,
            state=Alert.State.FIRING,
            ticket__status__in=OPEN_STATUSES,
        )
        .exclude(pk=alert.pk)
        .select_related("ticket")
    )
    nearest = min(
        firing, key=lambda a: (distances.get(a.config_item_id or 0, 0), a.pk), default=None
    )
    ticket = nearest.ticket if nearest is not None else None
    for _ in range(10):  # the major incident at the top, not a child of it
        if ticket is None or ticket.parent is None:
            break
        ticket = ticket.parent
    return ticket


def severity_levels(severity: str) -> tuple[int, int]:
    """(impact, urgency) of an alert's severity, from the admin's mapping."""
    row = SeverityMapping.objects.filter(severity=(severity or "").strip().lower()).first()
    return (row.impact, row.urgency) if row is not None else DEFAULT_LEVELS


def incident_title(alert: Alert) -> str:
    where = f" on {alert.config_item.name}" if alert.config_item is not None else ""
    summary = str(alert.annotations.get("summary", "")).strip()
    title = f"{alert.name}{where}" + (f": {summary}" if summary else "")
    return title[:TITLE_MAX]


def incident_description(alert: Alert) -> str:
    lines = [f"Opened by the monitoring source {alert.source.name}."]
    for key, value in list(alert.annotations.items())[:DESCRIPTION_LABELS_MAX]:
        lines.append(f"{key}: {str(value)[:VALUE_MAX]}")
    if alert.labels:
        lines.append("")
        lines.append("Labels:")
        for key, value in sorted(alert.labels.items())[:DESCRIPTION_LABELS_MAX]:
            lines.append(f"  {key}={value}")
    if alert.generator_url:
        lines.append("")
        lines.append(f"Source: {alert.generator_url}")
    return "\n".join(lines)


def _history(alert: Alert, what: str, now: datetime, detail: str = "") -> None:
    AlertEvent.objects.create(
        alert=alert, organization_id=alert.organization_id, what=what, at=now, detail=detail
    )


def _note(actor: User, ticket: Ticket, body: str) -> None:
    desk.add_comment(actor, ticket, body, is_public=False, channel=Channel.MONITORING)
