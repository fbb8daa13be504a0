"""The demo's months of history, played in order on the demo's clock.

Steps (open a ticket, answer it, resolve it …) are collected with the instant each happens,
then run oldest first, each with the clock set to its instant (clock.py), through the desk's,
mail's and releases' own actions. Between steps the worker's periodic jobs run as they would
have: the SLA sweep (warnings, breaches), the escalation levels, unanswered pages passed on,
and webhook deliveries with their retries. So clocks, breaches, escalations, pages and
deliveries are what the engine itself made of that history.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sustain.core import outbox
from sustain.demo import mails
from sustain.demo.clock import at
from sustain.demo.service import deliver_webhooks
from sustain.desk import actions as desk
from sustain.desk.models import Kind, Status, Ticket
from sustain.sla import actions as sla
from sustain.sla import escalation, sweep
from sustain.sla.models import Page

Step = Callable[[], object]  # what a step returns is not used
RECENT = timedelta(days=2)


@dataclass
class Timeline:
    """Steps at instants; `run` plays them in order with the worker's jobs in between."""

    now: datetime  # the end of the history: when the demo is loaded
    live_from: datetime  # from here on notifications and webhooks are sent, as in real life
    steps: list[tuple[datetime, int, Step]] = field(default_factory=list)
    last_tick: datetime | None = None

    def add(self, when: datetime, step: Step) -> None:
        """Plan `step` at `when`; what would happen after now has not happened yet."""
        if when <= self.now:
            self.steps.append((when, len(self.steps), step))

    def every(self, start: datetime, step: timedelta) -> None:
        """The worker's periodic jobs at least every `step` from `start` on."""
        moment = start
        while moment < self.now:
            self.add(moment, lambda: None)
            moment += step

    def run(self) -> None:
        for when, _, step in sorted(self.steps, key=lambda s: (s[0], s[1])):
            with self._quiet(when), at(when):
                self.tick(when)
                step()
        with at(self.now):
            self.tick(self.now, force=True)

    def _quiet(self, when: datetime) -> Any:
        """History before `live_from` told nobody (the demo's people have no real inboxes)."""
        return outbox.paused() if when < self.live_from else nullcontext()

    def tick(self, now: datetime, force: bool = False) -> None:
        """What the worker does every minute, when a minute or more passed since it last did."""
        # Months ago the jobs run twice a day of the clock (a breach is recorded at its due
        # time whenever the sweep finds it); in the last two days every minute, as the worker.
        gap = timedelta(minutes=1) if now >= self.now - RECENT else timedelta(hours=12)
        if not force and self.last_tick is not None and now - self.last_tick < gap:
            return
        self.last_tick = now
        if now < self.live_from:
            # Long ago someone answered every page within minutes.
            for page in Page.objects.filter(
                acknowledged_at__isnull=True, escalated_at__isnull=True
            ).select_related("user", "ticket"):
                sla.acknowledge(page.user, page)
        sweep.sweep(now)
        escalation.escalate_due(now)
        escalation.escalate_pages(now)
        if now >= self.live_from:
            deliver_webhooks(now)


@dataclass
class Cast:
    """Who acts in the history: customers with their environments, agents with their teams."""

    customers: list[tuple[Any, list[Any], list[Any]]]  # (organization, people, config items)
    agents: list[tuple[Any, Any]]  # (agent, team)


class Story:
    """One ticket's life as steps on the timeline; later steps find the ticket the first made."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.ticket: Ticket | None = None

    def open(self, when: datetime, requester: Any, by_mail: bool, **fields: Any) -> Story:
        def step() -> None:
            if by_mail:
                body = fields.get("description", "")
                self.ticket = mails.write(requester, fields["title"], body).ticket
            if self.ticket is None:  # by the portal (or the mail was held)
                self.ticket = desk.open_ticket(requester, **fields)

        self.timeline.add(when, step)
        return self

    def then(self, when: datetime, action: Callable[[Ticket], Any]) -> Story:
        def step() -> None:
            if self.ticket is not None:
                # As the database has it now: escalations may have changed it meanwhile.
                action(Ticket.objects.get(pk=self.ticket.pk))

        self.timeline.add(when, step)
        return self


def take(agent: Any, team: Any, reply: str) -> Callable[[Ticket], None]:
    def action(ticket: Ticket) -> None:
        desk.assign(agent, ticket, team=team, assignee=agent)
        desk.add_comment(agent, Ticket.objects.get(pk=ticket.pk), reply)

    return action


def say(person: Any, body: str, *, by_mail: bool = False, public: bool = True) -> Callable:
    def action(ticket: Ticket) -> None:
        if by_mail:
            mails.reply(person, ticket, body)
        else:
            desk.add_comment(person, ticket, body, is_public=public)

    return action


def move(person: Any, status: str) -> Callable[[Ticket], None]:
    def action(ticket: Ticket) -> None:
        if status in desk_allowed(ticket, person):
            desk.transition(person, ticket, status)

    return action


def desk_allowed(ticket: Ticket, person: Any) -> set[str]:
    from sustain.desk import workflow

    return workflow.allowed_transitions(ticket.status, customer=person.is_customer)


# --- the generated months ---------------------------------------------------------------------
def _minutes(rng: random.Random, spread: list[tuple[float, int, int]]) -> timedelta:
    """A delay drawn from (share, fewest, most minutes) bands."""
    pick, total = rng.random(), 0.0
    for share, low, high in spread:
        total += share
        if pick <= total:
            return timedelta(minutes=rng.randint(low, high))
    low, high = spread[-1][1:]
    return timedelta(minutes=rng.randint(low, high))


FIRST_ANSWER = [(0.7, 4, 40), (0.2, 60, 240), (0.1, 360, 1800)]
TO_RESOLVE = [(0.6, 60, 480), (0.3, 480, 2880), (0.1, 4320, 11520)]
FORGOTTEN = timedelta(days=30)
FINAL = [Status.CLOSED] * 6 + [Status.RESOLVED] * 2 + [Status.CANCELLED, Status.OPEN]


def generated(
    timeline: Timeline,
    cast: Cast,
    rng: random.Random,
    count: int,
    start: datetime,
    end: datetime,
    words: dict[str, list[str]],
) -> None:
    """`count` tickets opened between start and end, each living a typical life."""
    span = (end - start).total_seconds()
    for i in range(count):
        created = start + timedelta(seconds=span * (i + rng.random()) / count)
        _one(timeline, cast, rng, i, created, words)


def _one(
    timeline: Timeline,
    cast: Cast,
    rng: random.Random,
    i: int,
    created: datetime,
    words: dict[str, list[str]],
) -> None:
    _, people, items = cast.customers[i % len(cast.customers)]
    requester = rng.choice(people)
    agent, team = rng.choice(cast.agents)
    final = rng.choice(FINAL)
    if final == Status.OPEN and timeline.now - created > FORGOTTEN:
        final = Status.CLOSED  # a few weeks' backlog stays open, not months of it
    story = Story(timeline).open(
        created,
        requester,
        by_mail=rng.random() < 0.2,
        title=rng.choice(words["subjects"]),
        kind=rng.choice([Kind.INCIDENT, Kind.INCIDENT, Kind.REQUEST]),
        description=f"Seen on {items[0].name}.\n\nSteps:\n\n1. Log in\n2. Open the page\n",
        affected_ci=rng.choice(items),
        impact=rng.randint(1, 3),
        urgency=rng.randint(1, 3),
    )
    if final == Status.CANCELLED and rng.random() < 0.5:
        story.then(created + _minutes(rng, FIRST_ANSWER), move(requester, Status.CANCELLED))
        return
    answered = created + _minutes(rng, FIRST_ANSWER)
    story.then(answered, take(agent, team, rng.choice(words["answers"])))
    if rng.random() < 0.4:
        note = rng.choice(words["notes"])
        story.then(answered + timedelta(minutes=5), say(agent, note, public=False))
    replied = answered + timedelta(minutes=rng.randint(20, 600))
    story.then(replied, say(requester, rng.choice(words["replies"]), by_mail=rng.random() < 0.25))
    if final == Status.OPEN:
        return  # forgotten in the queue: its resolution clock breaches
    if final == Status.CANCELLED:
        story.then(replied + timedelta(hours=2), move(requester, Status.CANCELLED))
        return
    resolved = replied + _minutes(rng, TO_RESOLVE)
    story.then(resolved, move(agent, Status.RESOLVED))
    if final == Status.CLOSED:
        story.then(resolved + timedelta(days=3), move(agent, Status.CLOSED))
