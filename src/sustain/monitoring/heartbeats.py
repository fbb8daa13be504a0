"""Heartbeats: jobs that ping us, and the alert raised when one is late or fails.

Compatible with what healthchecks users already call (see `ping_views`): a success ping
makes a heartbeat up (and resolves its alert if it was down), a start makes it started (the
run must end within the grace), a failure or a non-zero exit status makes it down with a
firing alert, a log ping only records. Each ping is one short transaction: the heartbeat's
row locked, the ping inserted, the row written.

Deadlines: after a success the heartbeat is late at the next expected ping (last ping +
period, or the cron expression's next time in the heartbeat's time zone) and down a grace
later. `heartbeat_sweep(now)` finds the heartbeats whose `next_deadline_at` has passed, and
claims each with a conditional UPDATE on (pk, state, next_deadline_at) as healthchecks'
sendalerts does: two workers sweeping at once move each heartbeat once. Paused heartbeats
have no deadline, so they never alert.
"""

from __future__ import annotations

import threading
import uuid
import zoneinfo
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import croniter
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from sustain.accounts.models import Organization, User
from sustain.cmdb.models import ConfigItem
from sustain.core import events, tenancy
from sustain.core.errors import Conflict, Forbidden, Invalid, refuse_unknown
from sustain.core.locking import locked_all
from sustain.monitoring import alerts
from sustain.monitoring.models import Alert, Heartbeat, Ping, Source

BODY_MAX = 10_000  # bytes of a ping's body kept as its log
USER_AGENT_MAX = 200
NAME_MAX = 200
SECONDS_MIN = 60
SECONDS_MAX = 366 * 24 * 3600
SWEEP_BATCH = 500
OPTIMISTIC_TRIES = 3  # unlocked attempts at a ping before it takes the row's lock
FINGERPRINT = "heartbeat"
State = Heartbeat.State
SETTINGS = ("name", "config_item", "period_seconds", "grace_seconds", "cron", "time_zone")


@dataclass(frozen=True)
class Call:
    """One call of a ping URL, as the view read it."""

    kind: str  # Ping.Kind
    exit_status: int | None = None
    rid: uuid.UUID | None = None
    body: str = ""
    remote_addr: str = ""
    user_agent: str = ""
    method: str = ""


# --- schedules --------------------------------------------------------------------------------
def _check_schedule(period: int, grace: int, cron: str, time_zone: str) -> None:
    for field, value in (("period_seconds", period), ("grace_seconds", grace)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"{field} must be a whole number of seconds.", field=field)
        if not SECONDS_MIN <= value <= SECONDS_MAX:
            raise Invalid(
                f"{field} must be from {SECONDS_MIN} to {SECONDS_MAX} seconds.", field=field
            )
    if cron and not croniter.is_valid(cron):
        raise Invalid(f"{cron!r} is not a cron expression (five fields).", field="cron")
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"{time_zone!r} is not a time zone.", field="time_zone") from None


def expected_after(heartbeat: Heartbeat, at: datetime) -> datetime:
    """When the next ping is expected after one at `at`: late from then on."""
    if not heartbeat.cron:
        return at + timedelta(seconds=heartbeat.period_seconds)
    zone = zoneinfo.ZoneInfo(heartbeat.time_zone)
    following = croniter(heartbeat.cron, at.astimezone(zone)).get_next(datetime)
    return following.astimezone(UTC)


def grace(heartbeat: Heartbeat) -> timedelta:
    return timedelta(seconds=heartbeat.grace_seconds)


# --- set-up -----------------------------------------------------------------------------------
def _check(actor: User, organization: Organization) -> None:
    if not (actor.is_manager or actor.is_admin):
        raise Forbidden("Only managers and administrators may change monitoring.")
    if not tenancy.can_see_organization(actor, organization.pk):
        raise Forbidden("You may not manage this organization's monitoring.")


def create_heartbeat(
    actor: User,
    organization: Organization,
    *,
    name: str,
    config_item: ConfigItem | None = None,
    period_seconds: int = 86400,
    grace_seconds: int = 3600,
    cron: str = "",
    time_zone: str = "UTC",
) -> Heartbeat:
    """A heartbeat for `organization`, with its own source (managers and admins)."""
    _check(actor, organization)
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise Invalid(f"Give the heartbeat a name of at most {NAME_MAX} characters.", field="name")
    if config_item is not None and config_item.organization_id != organization.pk:
        raise Invalid(
            "The configuration item belongs to another organization.", field="config_item"
        )
    cron = (cron or "").strip()
    _check_schedule(period_seconds, grace_seconds, cron, time_zone)
    try:
        with transaction.atomic():
            source = Source.objects.create(
                organization=organization,
                name=name,
                kind=Source.Kind.HEARTBEAT,
                config_item=config_item,
            )
            heartbeat = Heartbeat.objects.create(
                organization=organization,
                name=name,
                source=source,
                config_item=config_item,
                period_seconds=period_seconds,
                grace_seconds=grace_seconds,
                cron=cron,
                time_zone=time_zone,
            )
            events.record(heartbeat, "created", actor=actor, after={"name": name})
    except IntegrityError:
        raise Conflict(
            f"{organization.name} already has a heartbeat named {name}.", field="name"
        ) from None
    return heartbeat


def update_heartbeat(actor: User, heartbeat: Heartbeat, changes: dict) -> Heartbeat:
    """Rename or reschedule a heartbeat; a new schedule counts from its last ping."""
    _check(actor, heartbeat.organization)
    refuse_unknown(changes, SETTINGS, "Unknown heartbeat field: {names}.")
    if "name" in changes:
        name = str(changes["name"] or "").strip()
        if not name or len(name) > NAME_MAX:
            raise Invalid(
                f"Give the heartbeat a name of at most {NAME_MAX} characters.", field="name"
            )
        changes["name"] = name
    item = changes.get("config_item")
    if item is not None and item.organization_id != heartbeat.organization_id:
        raise Invalid(
            "The configuration item belongs to another organization.", field="config_item"
        )
    if "cron" in changes:
        changes["cron"] = str(changes["cron"] or "").strip()
    _check_schedule(*(changes.get(k, getattr(heartbeat, k)) for k in SETTINGS[2:]))
    try:
        with transaction.atomic():
            (heartbeat,) = locked_all(Heartbeat.objects.filter(pk=heartbeat.pk))
            for key, value in changes.items():
                setattr(heartbeat, key, value)
            if heartbeat.state in (State.UP, State.LATE) and heartbeat.last_ping_at:
                heartbeat.state = State.UP
                heartbeat.next_deadline_at = expected_after(heartbeat, heartbeat.last_ping_at)
            heartbeat.save()
            Source.objects.filter(pk=heartbeat.source_id).update(
                name=heartbeat.name, config_item=heartbeat.config_item
            )
            events.record(heartbeat, "updated", actor=actor, after={"changed": sorted(changes)})
    except IntegrityError:
        raise Conflict(
            f"A heartbeat named {heartbeat.name} exists already.", field="name"
        ) from None
    return heartbeat


def pause(actor: User, heartbeat: Heartbeat, now: datetime | None = None) -> Heartbeat:
    """Paused: no deadline, no alert, until resumed (its pings are still recorded). A firing
    alert is resolved: nobody is told about a job someone stopped on purpose."""
    _check(actor, heartbeat.organization)
    now = now or timezone.now()
    with transaction.atomic():
        (heartbeat,) = locked_all(
            Heartbeat.objects.filter(pk=heartbeat.pk).select_related("source")
        )
        was_down = heartbeat.state == State.DOWN
        heartbeat.state, heartbeat.next_deadline_at = State.PAUSED, None
        heartbeat.save(update_fields=["state", "next_deadline_at"])
        if was_down:
            _signal(heartbeat, Alert.State.RESOLVED, now, "paused")
        events.record(heartbeat, "paused", actor=actor)
    return heartbeat


def resume(actor: User, heartbeat: Heartbeat, now: datetime | None = None) -> Heartbeat:
    """Back to new: it waits for its next ping before any deadline runs."""
    _check(actor, heartbeat.organization)
    with transaction.atomic():
        (heartbeat,) = locked_all(Heartbeat.objects.filter(pk=heartbeat.pk))
        if heartbeat.state == State.PAUSED:
            heartbeat.state, heartbeat.next_deadline_at = State.NEW, None
            heartbeat.save(update_fields=["state", "next_deadline_at"])
            events.record(heartbeat, "resumed", actor=actor)
    return heartbeat


def delete_heartbeat(actor: User, heartbeat: Heartbeat) -> None:
    """The heartbeat, its pings and its source (with its alert) go; incidents stay."""
    _check(actor, heartbeat.organization)
    with transaction.atomic():
        events.record(heartbeat, "deleted", actor=actor, before={"name": heartbeat.name})
        Source.objects.filter(pk=heartbeat.source_id).delete()  # cascades to the heartbeat


# --- pings ------------------------------------------------------------------------------------
def ping(key: uuid.UUID, call: Call, now: datetime | None = None) -> Ping | None:
    """Record one call of the ping URL `key` and apply it; None for an unknown key.

    Most pings raise or resolve no alert. Those are decided on the row as read, without a lock,
    and written as one conditional UPDATE of the heartbeat (on the state, last ping and deadline
    read: a ping, sweep or edit in between makes it miss, and the ping is decided again) and
    the ping's INSERT, so the database's write lock is held for two statements. A ping that
    changes the alert, or misses `OPTIMISTIC_TRIES` times, is applied under the row's lock.

    Without `now`, a ping's time is taken after its row is read (under the lock, for the
    locked ones), so pings applied one after the other carry times in that order: the alert
    never takes a later failure's firing for an old one and keep it over the resolution.
    """
    for _ in range(OPTIMISTIC_TRIES):
        heartbeat = Heartbeat.objects.filter(uuid=key).first()
        if heartbeat is None:
            return None
        row, changes, signal = _plan(heartbeat, call, now or timezone.now())
        if signal is not None:
            break
        seen = {
            "state": heartbeat.state,
            "last_ping_at": heartbeat.last_ping_at,
            "next_deadline_at": heartbeat.next_deadline_at,
        }
        with _one_writer(), transaction.atomic():
            if Heartbeat.objects.filter(pk=heartbeat.pk, **seen).update(**changes):
                row.save()
                return row
    return _ping_locked(key, call, now)


_WRITER = threading.Lock()


def _one_writer() -> AbstractContextManager[object]:
    """On SQLite, this process's threads take turns at the write before asking the database
    for its lock: a thread that finds the database locked sleeps in SQLite's busy handler
    (1, 2, 5, 10 … ms) however soon the lock is free, and with the web server's threads all
    pinging at once those sleeps, not the work, set the rate. Other processes still meet
    at the database's lock."""
    return _WRITER if connection.vendor == "sqlite" else nullcontext()


def _ping_locked(key: uuid.UUID, call: Call, now: datetime | None) -> Ping | None:
    with transaction.atomic():
        found = locked_all(Heartbeat.objects.filter(uuid=key).select_related("source"))
        if not found:
            return None
        heartbeat = found[0]
        now = now or timezone.now()
        row, changes, signal = _plan(heartbeat, call, now)
        for name, value in changes.items():
            setattr(heartbeat, name, value)
        row.save()
        heartbeat.save(update_fields=list(changes))
        if signal is not None:
            state, why = signal
            _signal(heartbeat, state, now, why)
    return row


def _plan(
    heartbeat: Heartbeat, call: Call, now: datetime
) -> tuple[Ping, dict[str, object], tuple[str, str] | None]:
    """What a ping does to `heartbeat` as read: its log row, the columns it changes, and the
    alert it raises or resolves ((state, why), or None). Writes nothing."""
    row = Ping(
        heartbeat=heartbeat,
        kind=call.kind,
        exit_status=call.exit_status,
        at=now,
        rid=call.rid,
        body=call.body,
        remote_addr=call.remote_addr,
        user_agent=call.user_agent[:USER_AGENT_MAX],
        method=call.method,
    )
    changes: dict[str, object] = {"last_ping_at": now}
    if call.kind == Ping.Kind.START:
        changes["last_start_at"] = now
    elif call.kind in (Ping.Kind.SUCCESS, Ping.Kind.FAIL):
        row.duration = _duration(heartbeat, call.rid, now)
        if row.duration is not None:
            changes["last_duration"] = row.duration
    moved, signal = _transition(heartbeat, call, now)
    return row, {**changes, **moved}, signal


def _duration(heartbeat: Heartbeat, rid: uuid.UUID | None, now: datetime) -> timedelta | None:
    """The run's duration: from the start with the same rid, else from the last start while
    the heartbeat is running."""
    if rid is not None:
        start = (
            Ping.objects.filter(heartbeat=heartbeat, kind=Ping.Kind.START, rid=rid)
            .order_by("-at")
            .values_list("at", flat=True)
            .first()
        )
        return now - start if start is not None and start <= now else None
    if heartbeat.state == State.STARTED and heartbeat.last_start_at is not None:
        return now - heartbeat.last_start_at
    return None


def _transition(
    heartbeat: Heartbeat, call: Call, now: datetime
) -> tuple[dict[str, object], tuple[str, str] | None]:
    """The state a ping leads to, and the alert it raises or resolves."""
    if call.kind == Ping.Kind.LOG or heartbeat.state == State.PAUSED:
        return {}, None
    # Down, or running again after being down (a start does not clear the alert: the run's
    # success does).
    was_down = heartbeat.state == State.DOWN or (
        heartbeat.state == State.STARTED and call.kind == Ping.Kind.SUCCESS and _firing(heartbeat)
    )
    if call.kind == Ping.Kind.START:  # the run's time limit
        return {"state": State.STARTED, "next_deadline_at": now + grace(heartbeat)}, None
    if call.kind == Ping.Kind.SUCCESS:
        moved = {"state": State.UP, "next_deadline_at": expected_after(heartbeat, now)}
        return moved, ((Alert.State.RESOLVED, "pinged") if was_down else None)
    # a failure
    moved = {"state": State.DOWN, "next_deadline_at": None}
    if was_down:
        return moved, None
    status = "" if call.exit_status is None else f" (exit status {call.exit_status})"
    return moved, (Alert.State.FIRING, f"the job reported a failure{status}")


def _firing(heartbeat: Heartbeat) -> bool:
    return Alert.objects.filter(
        source_id=heartbeat.source_id, fingerprint=FINGERPRINT, state=Alert.State.FIRING
    ).exists()


def _signal(heartbeat: Heartbeat, state: str, now: datetime, why: str) -> None:
    alerts.receive(
        heartbeat.source,
        alerts.Signal(
            fingerprint=FINGERPRINT,
            state=state,
            name=f"Heartbeat {heartbeat.name} is down",
            starts_at=now,
            ends_at=now if state == Alert.State.RESOLVED else None,
            severity="critical",
            labels={"heartbeat": heartbeat.name},
            annotations={"summary": f"{heartbeat.name}: {why}"},
            config_item=heartbeat.config_item,
        ),
        now,
    )


# --- the deadline sweep -----------------------------------------------------------------------
def heartbeat_sweep(now: datetime | None = None) -> int:
    """Heartbeats past their deadline turn late (at the expected ping) and then down (a grace
    later, raising their alert); a running job past its time limit turns down. Each claimed
    with a conditional UPDATE: a second sweep at the same time moves none twice."""
    now = now or timezone.now()
    due = list(
        Heartbeat.objects.filter(next_deadline_at__lte=now)
        .exclude(state=State.PAUSED)
        .select_related("source")
        .order_by("next_deadline_at")[:SWEEP_BATCH]
    )
    moved = 0
    for heartbeat in due:
        moved += advance(heartbeat, now)
    return moved


def advance(heartbeat: Heartbeat, now: datetime) -> int:
    state, deadline = heartbeat.state, heartbeat.next_deadline_at
    assert deadline is not None
    new_state, new_deadline = State.DOWN, None
    if state == State.UP:
        new_state, new_deadline = State.LATE, deadline + grace(heartbeat)
        if new_deadline <= now:  # the sweep came late: straight to down
            new_state, new_deadline = State.DOWN, None
    elif state not in (State.LATE, State.STARTED):
        return 0
    with transaction.atomic():
        claimed = Heartbeat.objects.filter(
            pk=heartbeat.pk, state=state, next_deadline_at=deadline
        ).update(state=new_state, next_deadline_at=new_deadline)
        if not claimed:
            return 0
        heartbeat.state, heartbeat.next_deadline_at = new_state, new_deadline
        if new_state == State.DOWN:
            why = "the run took longer than its grace" if state == State.STARTED else "no ping"
            _signal(heartbeat, Alert.State.FIRING, now, why)
    return 1
