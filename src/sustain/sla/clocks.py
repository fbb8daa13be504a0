"""The SLA clocks of a ticket: started on creation, paused and resumed by status, met by
replies and resolution, recomputed from history when priority or policy change.

Called by the desk's actions inside their transactions; never by views.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sustain.core import businesstime, compiled, events
from sustain.core.businesstime import Schedule
from sustain.core.events import for_target
from sustain.sla.config import Config, current
from sustain.sla.models import Clock, Metric, Policy

STOPPED_STATUSES = {"resolved", "closed", "cancelled"}
DEFAULT_PAUSE = ["pending"]
OPENING_METRICS = (Metric.FIRST_RESPONSE, Metric.RESOLUTION)
ACTIVE_STATES = (Clock.State.RUNNING, Clock.State.BREACHED)


def policy_for(ticket: Any, config: Config | None = None) -> Policy | None:
    """The first active policy, in order, whose conditions all match the ticket."""
    config = config or current()
    product_id = ticket.affected_ci.product_id if ticket.affected_ci_id else None
    for policy in config.policies:
        if policy.organization_id and policy.organization_id != ticket.organization_id:
            continue
        if policy.kind and policy.kind != ticket.kind:
            continue
        if policy.priority and policy.priority != ticket.priority:
            continue
        if policy.product_id and policy.product_id != product_id:
            continue
        if policy.config_item_id and policy.config_item_id != ticket.affected_ci_id:
            continue
        return policy
    return None


def _pause_statuses(policy: Policy) -> set[str]:
    statuses = policy.pause_statuses
    if not isinstance(statuses, list) or not statuses:  # a hand-edited row: the default
        return set(DEFAULT_PAUSE)
    return {s for s in statuses if isinstance(s, str)}


def _schedule_deadlines(clock: Clock, policy: Policy, schedule: Schedule, now: datetime) -> None:
    """Set due_at and warn_at of a running clock from what is left of its target."""
    remaining = max(clock.target_seconds - clock.elapsed_seconds, 0)
    clock.due_at = businesstime.add(schedule, now, remaining)
    warn_left = clock.target_seconds * policy.warn_percent / 100 - clock.elapsed_seconds
    clock.warn_at = (
        businesstime.add(schedule, now, max(warn_left, 0)) if clock.warned_at is None else None
    )


def _advance(clock: Clock, schedule: Schedule, now: datetime) -> None:
    if clock.counting:
        clock.elapsed_seconds += businesstime.between(schedule, clock.counted_until, now)
    clock.counted_until = now


def plan(ticket: Any, now: datetime) -> list[Clock]:
    """The opening clocks of a new ticket, not yet saved, with the ticket's next-due columns
    set from them: planned before the ticket's insert, so that the insert carries them."""
    config = current()
    policy = policy_for(ticket, config)
    clocks: list[Clock] = []
    if policy is not None:
        targets = config.targets_for(policy, ticket.priority)
        schedule = config.schedule(policy)
        paused = ticket.status in _pause_statuses(policy)
        for metric in OPENING_METRICS:
            if metric not in targets:
                continue
            clock = Clock(
                ticket=ticket,
                metric=metric,
                policy=policy,
                target_seconds=targets[metric],
                started_at=now,
                counted_until=now,
                state=Clock.State.PAUSED if paused else Clock.State.RUNNING,
                counting=not paused,
            )
            if not paused:
                _schedule_deadlines(clock, policy, schedule, now)
            clocks.append(clock)
    ticket.sla_due_at, ticket.sla_warn_at = next_due(clocks)
    return clocks


def start(ticket: Any, now: datetime, planned: list[Clock] | None = None) -> list[Clock]:
    """First response and resolution clocks for a new ticket, when a policy applies.

    With `planned` (from `plan`, before the ticket's insert) they are only saved; without,
    they are planned now and the ticket's next-due columns written to its row."""
    clocks = plan(ticket, now) if planned is None else planned
    for clock in clocks:
        clock.ticket = ticket  # the ticket has its id by now
    if planned is None:
        write_next_due(ticket, (None, None))
    return compiled.insert(clocks)  # as bulk_create, the statement built once


def _halt(clock: Clock, schedule: Schedule, now: datetime) -> None:
    """Stop counting for now (waiting on the customer, cancelled); a breach stays a breach."""
    _advance(clock, schedule, now)
    clock.counting = False
    if clock.state == Clock.State.RUNNING:
        clock.state = Clock.State.PAUSED
        clock.due_at = clock.warn_at = None


def _resume(clock: Clock, policy: Policy, schedule: Schedule, now: datetime) -> None:
    clock.counting, clock.counted_until = True, now
    if clock.state == Clock.State.PAUSED:
        clock.state = Clock.State.RUNNING
        _schedule_deadlines(clock, policy, schedule, now)


def _stop(clock: Clock, schedule: Schedule, now: datetime, *, met: bool) -> None:
    _advance(clock, schedule, now)
    clock.counting = False
    if met and clock.met_at is None:
        clock.met_at = now
        events.record(
            clock.ticket,
            "sla_met",
            is_public=False,
            after={
                "metric": clock.metric,
                "in_time": clock.state != Clock.State.BREACHED,
                "elapsed_business_seconds": round(clock.elapsed_seconds),
            },
        )
    if clock.state != Clock.State.BREACHED:
        clock.state = Clock.State.MET if met else Clock.State.PAUSED
    clock.due_at = clock.warn_at = None


def status_changed(ticket: Any, old: str, new: str, now: datetime) -> list[Clock]:
    """Pause, resume, meet or reopen the ticket's clocks after a status change."""
    changed = []
    config = current()
    every = list(ticket.clocks.select_related("policy"))
    for clock in every:
        if _follow(clock, config.schedule_of(clock.policy.calendar_id), old, new, now):
            clock.save()
            changed.append(clock)
    if changed:
        sync_next_due(ticket, every)
    return changed


def _follow(clock: Clock, schedule: Schedule, old: str, new: str, now: datetime) -> bool:
    """Move one clock after a status change (not saved); False if it stays as it is."""
    policy = clock.policy
    pause = _pause_statuses(policy)
    open_clock = clock.met_at is None and clock.state != Clock.State.MET
    if new in ("resolved", "closed"):
        if not open_clock:
            return False
        _stop(clock, schedule, now, met=True)
    elif new == "cancelled":
        if not open_clock:
            return False
        _halt(clock, schedule, now)
    elif old in STOPPED_STATUSES:
        return _reopen(clock, schedule, new in pause, open_clock, now)
    elif new in pause and open_clock and clock.counting:
        _halt(clock, schedule, now)
    elif new not in pause and open_clock and not clock.counting:
        _resume(clock, policy, schedule, now)
    else:
        return False
    return True


def _reopen(
    clock: Clock, schedule: Schedule, paused: bool, open_clock: bool, now: datetime
) -> bool:
    """Reopened: the time already spent stays spent; the resolution clock counts on."""
    if clock.metric == Metric.RESOLUTION and not open_clock:
        clock.met_at = None
        if clock.state == Clock.State.MET:
            clock.state = Clock.State.PAUSED
    elif not open_clock:
        return False
    if paused:
        _halt(clock, schedule, now)
    else:
        _resume(clock, clock.policy, schedule, now)
    return True


def public_reply(ticket: Any, author: Any, now: datetime) -> list[Clock]:
    """An agent's public reply meets first response and next update; a customer's starts next update."""
    changed = []
    config = current()
    clocks = {c.metric: c for c in ticket.clocks.select_related("policy")}
    if author is not None and author.is_agent:
        for metric in (Metric.FIRST_RESPONSE, Metric.NEXT_UPDATE):
            clock = clocks.get(metric)
            if clock is not None and clock.met_at is None and clock.state != Clock.State.MET:
                _stop(clock, config.schedule_of(clock.policy.calendar_id), now, met=True)
                clock.save()
                changed.append(clock)
        if changed:
            sync_next_due(ticket, clocks.values())
        return changed
    policy = policy_for(ticket, config)
    if policy is None:
        return changed
    target = config.targets_for(policy, ticket.priority).get(Metric.NEXT_UPDATE)
    if target is None:
        return changed
    clock = clocks.get(Metric.NEXT_UPDATE) or Clock(ticket=ticket, metric=Metric.NEXT_UPDATE)
    # Each customer message starts a new cycle of the next-update promise.
    clock.policy, clock.target_seconds = policy, target
    clock.state, clock.elapsed_seconds, clock.counting = Clock.State.RUNNING, 0, True
    clock.started_at = clock.counted_until = now
    clock.met_at = clock.breached_at = clock.warned_at = None
    _schedule_deadlines(clock, policy, config.schedule(policy), now)
    clock.save()
    clocks[Metric.NEXT_UPDATE] = clock
    sync_next_due(ticket, clocks.values())
    return [clock]


def status_history(ticket: Any) -> list[tuple[datetime, str]]:
    """(since, status) pairs read from the ticket's events, oldest first."""
    rows = for_target(ticket).values_list("created_at", "after")
    return history_from(ticket.created_at, rows)


def history_from(
    created_at: datetime, rows: Iterable[tuple[datetime, dict]]
) -> list[tuple[datetime, str]]:
    """(since, status) pairs from (created_at, after) event rows in order."""
    history = [(created_at, "new")]
    for when, after in rows:
        status = (after or {}).get("status")
        if status and status != history[-1][1]:
            history.append((when, status))
    return history


def counted_seconds(
    schedule: Schedule,
    history: list[tuple[datetime, str]],
    pause: set[str],
    start: datetime,
    end: datetime,
) -> float:
    """Business seconds between start and end during which the status did not pause the clock."""
    total = 0.0
    bounds = [*history[1:], (end, "")]
    for (since, status), (until, _) in zip(history, bounds, strict=False):
        if status in pause or status in STOPPED_STATUSES:
            continue
        low, high = max(since, start), min(until, end)
        if high > low:
            total += businesstime.between(schedule, low, high)
    return total


def recompute(
    ticket: Any,
    now: datetime,
    *,
    config: Config | None = None,
    history: list[tuple[datetime, str]] | None = None,
    existing: list[Clock] | None = None,
    save: bool = True,
) -> list[Clock]:
    """Recompute every clock of a ticket from its history under the policy that applies now.

    Batch callers pass the configuration, the history and the clocks they fetched for many
    tickets at once, and save the returned clocks themselves (save=False).
    """
    config = config or current()
    policy = policy_for(ticket, config)
    by_metric = {c.metric: c for c in (ticket.clocks.all() if existing is None else existing)}
    if policy is None:
        Clock.objects.filter(
            ticket=ticket, state__in=[Clock.State.RUNNING, Clock.State.PAUSED]
        ).delete()
        kept = [
            c
            for c in by_metric.values()
            if c.state not in (Clock.State.RUNNING, Clock.State.PAUSED)
        ]
        _settle(ticket, kept, save)
        return []
    targets = config.targets_for(policy, ticket.priority)
    schedule = config.schedule(policy)
    pause = _pause_statuses(policy)
    history = history if history is not None else status_history(ticket)
    status_now = history[-1][1]
    result = []
    for metric, target in targets.items():
        clock = by_metric.get(metric)
        if clock is None:
            if metric == Metric.NEXT_UPDATE:
                continue  # started by a customer's message, not by a recompute
            clock = Clock(ticket=ticket, metric=metric, started_at=ticket.created_at)
        clock.policy, clock.target_seconds = policy, target
        end = clock.met_at or now
        clock.elapsed_seconds = counted_seconds(schedule, history, pause, clock.started_at, end)
        clock.counted_until = end
        if clock.met_at is not None:
            clock.state = Clock.State.BREACHED if clock.breached_at else Clock.State.MET
            clock.due_at = clock.warn_at = None
            clock.counting = False
        elif status_now in pause or status_now in STOPPED_STATUSES:
            clock.state = Clock.State.BREACHED if clock.breached_at else Clock.State.PAUSED
            clock.due_at = clock.warn_at = None
            clock.counting = False
        else:
            clock.state = Clock.State.BREACHED if clock.breached_at else Clock.State.RUNNING
            clock.counting = True
            if clock.state == Clock.State.RUNNING:
                _schedule_deadlines(clock, policy, schedule, now)
        if save:
            clock.save()
        result.append(clock)
    stale = [c.pk for m, c in by_metric.items() if m not in targets]
    if stale:
        Clock.objects.filter(pk__in=stale).delete()
    _settle(ticket, result, save)
    return result


def _settle(ticket: Any, clocks: list[Clock], save: bool) -> None:
    """The ticket's next-due columns after a recompute: written now, or (batch callers, which
    write the ticket's columns with its clocks) only set on the ticket."""
    if save:
        sync_next_due(ticket, clocks)
    else:
        ticket.sla_due_at, ticket.sla_warn_at = next_due(clocks)


def is_active(clock: Any) -> bool:
    """A clock that counts against the team now: running, or breached and still counting
    (not met, not paused while waiting on the customer, not stopped)."""
    return bool(clock.counting) and clock.met_at is None and clock.state in ACTIVE_STATES


def next_due(clocks: Iterable[Any]) -> tuple[datetime | None, datetime | None]:
    """The ticket's next-due columns from its clocks: the nearest due instant of its active
    clocks and the earliest warning point among them ((None, None) without an active clock).

    A breached clock's due instant is in the past (its breach); a clock already warned whose
    warning instant was cleared by a reschedule counts as warned since it started, as its
    badge shows it amber. So at any `now`: breached ⇔ due <= now, and due soon ⇔
    warning <= now < due (no clock breached, one past its warning point).
    `clocks` may be Clock rows or anything with the same attributes (the bulk generator's).
    """
    active = [c for c in clocks if is_active(c)]
    if not active:
        return None, None
    due = min(c.due_at or c.breached_at or c.counted_until for c in active)
    warn = min(c.warn_at or c.warned_at or c.started_at for c in active)
    return due, warn


def write_next_due(ticket: Any, old: tuple[datetime | None, datetime | None]) -> None:
    """Write the ticket's next-due columns (already set on `ticket`) when they differ from
    `old`: one UPDATE of two columns, without touching updated_at."""
    new = (ticket.sla_due_at, ticket.sla_warn_at)
    if new != old:
        type(ticket).objects.filter(pk=ticket.pk).update(sla_due_at=new[0], sla_warn_at=new[1])


def sync_next_due(ticket: Any, clocks: Iterable[Any]) -> None:
    """Keep the ticket's next-due columns in step with `clocks`, all of its clocks as saved."""
    old = (ticket.sla_due_at, ticket.sla_warn_at)
    ticket.sla_due_at, ticket.sla_warn_at = next_due(clocks)
    write_next_due(ticket, old)


def nearest_due(clocks: Iterable[Clock]) -> Clock | None:
    running = [(c.due_at, c.pk, c) for c in clocks if c.state == Clock.State.RUNNING and c.due_at]
    return min(running)[2] if running else None
