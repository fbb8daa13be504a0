"""Tickets generated in bulk for benchmarks (`sustain demo --tickets N`): COPY or executemany,
one full-text insert per batch, SLA clocks as the engine would leave them."""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from sustain.accounts.models import Organization, Role, Team
from sustain.bugs.models import TicketWord
from sustain.bugs.similar import index as similar_index
from sustain.core import counters, outbox
from sustain.core.models import Event
from sustain.demo.service import OFFICE_WEEK
from sustain.demo.world import NOTES, REPLIES, SUBJECTS, database_is_empty, load_world
from sustain.desk import workflow
from sustain.desk.models import KEY_PREFIX, Channel, Comment, Kind, Status, Ticket
from sustain.sla.clocks import next_due
from sustain.sla.models import Clock

# Words for generated descriptions, drawn with a Zipf distribution (the k-th word k times less
# often than the first) over the words below and then 40,000 made-up ones, so that searches
# meet words in half the tickets, in a few thousand and in a handful, without a gap between:
# PostgreSQL's planner estimates a word's frequency from what it has seen of such a tail.
_WORDS = """
error timeout database login page customer server request response deploy update report user
export import invoice payment checkout search queue worker memory disk certificate network proxy
cache session token password email notification webhook backup restore migration schema index
query latency throughput cluster node container kubernetes docker nginx gunicorn postgres redis
mysql elasticsearch kafka rabbitmq cron scheduler batch job pipeline build release version patch
rollback hotfix staging production sandbox firewall vpn dns loadbalancer gateway api endpoint
upload download attachment pdf csv excel ledger vat currency rounding locale timezone daylight
holiday calendar dashboard chart widget filter sort pagination cursor permission role admin
audit compliance gdpr retention archive purge quota limit throttle retry backoff deadlock lock
transaction replica failover leader election heartbeat probe alert threshold incident
outage degraded slowness spike leak crash restart oom segfault stacktrace exception traceback
nullpointer encoding unicode accented diacritics emoji truncation overflow underflow precision
float decimal integer signature hash checksum sso saml oauth openid ldap kerberos mfa otp
captcha cookie csrf cors header redirect loop safari firefox chrome edge mobile android ios
tablet printer scanner barcode warehouse inventory shipment tracking courier refund chargeback
subscription renewal trial licence seat billing proration dunning reconciliation ledgerline
"""


def _made_up_words(count: int, seed: int = 3) -> list[str]:
    """Pronounceable nonsense words (`kelomari`), distinct and not among the real ones."""
    rng = random.Random(seed)
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    made: dict[str, None] = {}
    while len(made) < count:
        made["".join(rng.choices(syllables, k=rng.randint(3, 5)))] = None
    return list(made)


VOCABULARY = list(dict.fromkeys(_WORDS.split()))
VOCABULARY += [w for w in _made_up_words(40_000) if w not in set(VOCABULARY)]
# Cumulative Zipf weights over VOCABULARY, for random.choices(cum_weights=…).
ZIPF_CUM = list(itertools.accumulate(1.0 / rank for rank in range(1, len(VOCABULARY) + 1)))

# Of the newest 5% of tickets most are still being worked on; of the older ones a few are
# forgotten in the queues. About one ticket in ten is open overall: a heavy backlog.
RECENT_SHARE, RECENT_OPEN, STALE_OPEN = 0.05, 0.7, 0.07
OPEN_MIX = [Status.NEW] * 3 + [Status.OPEN] * 5 + [Status.PENDING] * 2
DONE_MIX = [Status.CLOSED] * 6 + [Status.RESOLVED] * 3 + [Status.CANCELLED]
CHANNELS = [Channel.WEB] * 4 + [Channel.EMAIL] * 3 + [Channel.API] * 2 + [Channel.MONITORING]


class BulkTable:
    """Inserts rows of one model: COPY on PostgreSQL, executemany on SQLite.

    Rows give `columns` in order; every other column gets the field's default, so a field added
    to the model later does not break the generator.
    """

    def __init__(self, model: type[Model], columns: list[str]) -> None:
        self.table = model._meta.db_table
        fields = {f.column: f for f in model._meta.concrete_fields}
        missing = set(columns) - set(fields)
        if missing:
            raise ValueError(f"{self.table} has no columns {sorted(missing)}")
        pk = model._meta.pk.column if model._meta.pk else None
        self.extra_columns = [c for c in fields if c not in columns and c != pk]
        self.extra_values = tuple(
            fields[c].get_db_prep_save(fields[c].get_default(), connection)
            for c in self.extra_columns
        )
        self.columns = [*columns, *self.extra_columns]

    def reserve_ids(self, count: int) -> range | list[int]:
        """Ids for `count` new rows, taken so that later ordinary inserts do not collide."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [self.table, count],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: the caller holds the write lock (IMMEDIATE transaction), so max(id) is ours.
            cursor.execute(
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0),"
                f" coalesce((SELECT max(id) FROM {self.table}), 0))",
                [self.table],
            )
            last = int(cursor.fetchone()[0])
        return range(last + 1, last + 1 + count)

    def insert(self, rows: list[tuple[Any, ...]]) -> None:
        extra = self.extra_values
        cols = ", ".join(f'"{c}"' for c in self.columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {self.table} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row + extra)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(
                    f"INSERT INTO {self.table} ({cols}) VALUES ({marks})",
                    [row + extra for row in rows],
                )


# Business time runs about a third as fast as the wall clock in a 50-hour office week: good
# enough to place generated deadlines (the SLA engine computes real ones for new tickets).
WALL_PER_BUSINESS_SECOND = 168 / 50


def _sla_policy() -> tuple[int, dict[tuple[int, str], int]]:
    """The active SLA policy without conditions generated tickets are measured by, and its
    targets in business seconds by (priority, metric).

    When there is none, an office-hours policy is written directly, like the tickets: through
    the actions, it would queue a recomputation of every open ticket's clocks for the worker's
    start, 200,000 updates disturbing the first benchmarks.
    """
    from sustain.sla.models import Calendar, Policy, Target

    # The first active policy that governs every ticket (the demo world's Acme policy has a
    # condition: its customer's tickets only).
    policy = (
        Policy.objects.filter(
            active=True,
            organization__isnull=True,
            kind="",
            priority__isnull=True,
            product__isnull=True,
            config_item__isnull=True,
        )
        .order_by("order", "id")
        .first()
    )
    if policy is None:
        calendar = Calendar.objects.create(
            name="Office hours (generated)", timezone="Europe/Berlin", hours=OFFICE_WEEK
        )
        policy = Policy.objects.create(
            name="Standard (generated)", calendar=calendar, pause_statuses=[Status.PENDING]
        )
        Target.objects.bulk_create(
            Target(policy=policy, priority=p, metric=metric, minutes=minutes * p)
            for p in (1, 2, 3, 4)
            for metric, minutes in (("first_response", 30), ("resolution", 480))
        )
    return policy.pk, {(t.priority, t.metric): t.minutes * 60 for t in policy.targets.all()}


class ClockRow(NamedTuple):
    """A generated clock row under the names `sla.clocks.next_due` reads."""

    ticket_id: int
    metric: str
    policy_id: int
    state: str
    target_seconds: int
    elapsed_seconds: float
    counting: bool
    counted_until: datetime
    started_at: datetime
    due_at: datetime | None
    warn_at: datetime | None
    warned_at: datetime | None
    met_at: datetime | None
    breached_at: datetime | None


def _clock_rows(
    ticket: tuple[int, str, int, datetime, datetime, datetime | None, datetime],
    policy_id: int,
    targets: dict[tuple[int, str], int],
    now: datetime,
) -> list[tuple[Any, ...]]:
    """First response and resolution clocks of one generated ticket, in the state the SLA
    engine would have left them: met (or breached, then met) when done, paused while pending
    or cancelled, breached when overdue, otherwise running with due and warning times."""
    ticket_id, status, priority, created, worked, resolved, updated = ticket
    rows: list[tuple[Any, ...]] = []
    for metric in ("first_response", "resolution"):
        target = targets.get((priority, metric))
        if target is None:
            continue
        due = created + timedelta(seconds=target * WALL_PER_BUSINESS_SECOND)
        warn = created + (due - created) * 0.75
        done = worked if metric == "first_response" and status != Status.NEW else None
        if metric == "resolution" and status in (Status.RESOLVED, Status.CLOSED):
            done = resolved
        paused = status == Status.CANCELLED or (metric == "resolution" and status == Status.PENDING)
        until = done or (updated if paused else now)
        elapsed = target * min((until - created) / (due - created), 10.0)
        state = Clock.State.BREACHED if until > due else Clock.State.RUNNING
        if done is not None:
            state = Clock.State.BREACHED if done > due else Clock.State.MET
        elif paused and state == Clock.State.RUNNING:
            state = Clock.State.PAUSED
        counting = done is None and not paused
        running = state == Clock.State.RUNNING
        rows.append(
            (
                ticket_id,
                metric,
                policy_id,
                state,
                target,
                elapsed,
                counting,
                until,
                created,
                due if running or state == Clock.State.BREACHED else None,
                warn if running else None,
                warn if until > warn else None,
                done,
                due if until > due else None,
            )
        )
    return rows


def _status(rng: random.Random, recent: bool) -> str:
    """A generated ticket's status: recent tickets are more often still open."""
    open_share = RECENT_OPEN if recent else STALE_OPEN
    return str(rng.choice(OPEN_MIX) if rng.random() < open_share else rng.choice(DONE_MIX))


def _assignment(
    rng: random.Random, status: str, pairs: list[tuple[int, int]], team_ids: list[int]
) -> tuple[int | None, int | None]:
    """A generated ticket's team and agent (None: not assigned)."""
    team = agent = None
    if status != Status.NEW or rng.random() < 0.1:
        team, agent = rng.choice(pairs)
        if rng.random() < 0.1 and status in (Status.OPEN, Status.PENDING):
            agent = None  # with the team, nobody picked it up yet
            team = rng.choice(team_ids)
    return team, agent


def _timeline(
    rng: random.Random, created: datetime, status: str
) -> tuple[datetime, datetime | None, datetime | None]:
    """When a generated ticket was first worked on, resolved and closed."""
    # First touched within hours, now and then days later.
    late = rng.random() < 0.15
    worked = created + timedelta(minutes=rng.randint(5, 60 * (72 if late else 4)))
    resolved: datetime | None = None
    closed: datetime | None = None
    if status in (Status.RESOLVED, Status.CLOSED):
        resolved = worked + timedelta(minutes=rng.randint(10, 60 * 24 * 5))
        if status == Status.CLOSED:
            closed = resolved + timedelta(days=3)
    return worked, resolved, closed


def bulk_tickets(count: int, batch: int = 10_000, progress: bool = True, seed: int = 11) -> None:
    """N tickets over the last two years, each with two comments, two events and its SLA
    clocks (first response and resolution, under the active policy or a generated one).

    Rows go in by COPY (PostgreSQL) or executemany (SQLite), a batch per transaction, bypassing
    the ORM and the actions: no notifications are sent. The search index is filled per
    batch in one statement (SQLite) or by its generated column (PostgreSQL). Ids increase with
    the creation time. Loads into the demo world (created first when the database is empty).
    """
    from tqdm import tqdm

    rng = random.Random(seed)
    if database_is_empty():
        load_world(tickets=20)
    customers = [
        (
            org.pk,
            org.slug,
            list(org.users.values_list("id", flat=True)),
            list(org.config_items.values_list("id", flat=True)),
        )
        for org in Organization.objects.filter(is_provider=False).order_by("id")
    ]
    # (team, agent) pairs an assignment may take: an agent of one of the team's members.
    pairs = [
        (team.pk, user.pk)
        for team in Team.objects.order_by("id")
        for user in team.members.exclude(role=Role.CUSTOMER).order_by("id")
    ]
    team_ids = sorted({team for team, _ in pairs})
    matrix = {(i, u): workflow.priority_for(i, u) for i in (1, 2, 3) for u in (1, 2, 3)}
    requests = count // 5  # every fifth ticket is a service request
    first = {
        Kind.INCIDENT: counters.reserve(f"ticket:{Kind.INCIDENT}", count - requests),
        Kind.REQUEST: counters.reserve(f"ticket:{Kind.REQUEST}", max(requests, 1)),
    }
    numbered = {Kind.INCIDENT: 0, Kind.REQUEST: 0}

    sqlite = connection.vendor == "sqlite"

    def when(moment: datetime) -> Any:
        # Django keeps SQLite times as naive UTC text; PostgreSQL takes aware datetimes.
        return str(moment) if sqlite else moment.replace(tzinfo=UTC)

    tickets = BulkTable(
        Ticket,
        [
            "id",
            "key",
            "kind",
            "title",
            "description",
            "organization_id",
            "requester_id",
            "affected_ci_id",
            "impact",
            "urgency",
            "priority",
            "status",
            "channel",
            "team_id",
            "assignee_id",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
            "sla_due_at",
            "sla_warn_at",
        ],
    )
    comments = BulkTable(
        Comment, ["id", "ticket_id", "author_id", "body", "is_public", "channel", "created_at"]
    )
    policy_id, targets = _sla_policy()
    clocks = BulkTable(
        Clock,
        [
            "ticket_id",
            "metric",
            "policy_id",
            "state",
            "target_seconds",
            "elapsed_seconds",
            "counting",
            "counted_until",
            "started_at",
            "due_at",
            "warn_at",
            "warned_at",
            "met_at",
            "breached_at",
        ],
    )
    events = BulkTable(
        Event,
        [
            "id",
            "created_at",
            "actor_id",
            "organization_id",
            "target_type",
            "target_id",
            "verb",
            "before",
            "after",
            "is_public",
        ],
    )
    end = timezone.now().replace(tzinfo=None)
    span = timedelta(days=730).total_seconds()
    bar = tqdm(total=count, unit="tickets", disable=not progress, smoothing=0.05)
    made = 0
    while made < count:
        size = min(batch, count - made)
        ticket_rows: list[tuple[Any, ...]] = []
        comment_rows: list[tuple[Any, ...]] = []
        event_rows: list[tuple[Any, ...]] = []
        clock_rows: list[tuple[Any, ...]] = []
        with outbox.paused(), transaction.atomic():
            ids = tickets.reserve_ids(size)
            comment_ids = iter(comments.reserve_ids(2 * size))
            event_ids = iter(events.reserve_ids(2 * size))
            for i, ticket_id in enumerate(ids):
                n = made + i
                position = n / count  # 0 oldest … 1 newest
                created = end - timedelta(seconds=(1 - position) * span + rng.random() * 60)
                recent = position > 1 - RECENT_SHARE
                status = _status(rng, recent)
                kind = Kind.REQUEST if n % 5 == 4 else Kind.INCIDENT
                key = f"{KEY_PREFIX[kind]}-{first[kind] + numbered[kind]}"
                numbered[kind] += 1
                org_id, slug, people, items = customers[n % len(customers)]
                requester = rng.choice(people)
                team, agent = _assignment(rng, status, pairs, team_ids)
                impact, urgency = rng.randint(1, 3), rng.randint(1, 3)
                worked, resolved, closed = _timeline(rng, created, status)
                updated = closed or resolved or worked
                made_clocks = _clock_rows(
                    (
                        ticket_id,
                        status,
                        matrix[(impact, urgency)],
                        created,
                        worked,
                        resolved,
                        updated,
                    ),
                    policy_id,
                    targets,
                    end,
                )
                for row in made_clocks:
                    clock_rows.append(tuple(when(v) if isinstance(v, datetime) else v for v in row))
                due, warn = next_due(ClockRow(*row) for row in made_clocks)
                words = " ".join(rng.choices(VOCABULARY, cum_weights=ZIPF_CUM, k=8))
                host = f"{slug}-app-{rng.randint(1, 40):02d}"
                ticket_rows.append(
                    (
                        ticket_id,
                        key,
                        kind,
                        f"{rng.choice(SUBJECTS)} on {host}",
                        f"{rng.choice(REPLIES)} Reference E{rng.randint(10000, 99999)}."
                        f"\n\nNotes: {words}.",
                        org_id,
                        requester,
                        rng.choice(items) if items else None,
                        impact,
                        urgency,
                        matrix[(impact, urgency)],
                        status,
                        rng.choice(CHANNELS),
                        team,
                        agent,
                        when(created),
                        when(updated),
                        when(resolved) if resolved else None,
                        when(closed) if closed else None,
                        when(due) if due else None,
                        when(warn) if warn else None,
                    )
                )
                # The requester's follow-up, written in the portal: a comment that says it came
                # by e-mail links to its stored mail, and the generator stores none.
                comment_rows.append(
                    (
                        next(comment_ids),
                        ticket_id,
                        requester,
                        rng.choice(REPLIES),
                        True,
                        Channel.WEB,
                        when(created + timedelta(minutes=3)),
                    )
                )
                comment_rows.append(
                    (
                        next(comment_ids),
                        ticket_id,
                        agent,
                        rng.choice(NOTES),
                        False,
                        Channel.WEB,
                        when(worked),
                    )
                )
                event_rows.append(
                    (
                        next(event_ids),
                        when(created),
                        requester,
                        org_id,
                        "desk.ticket",
                        ticket_id,
                        "created",
                        "{}",
                        json.dumps({"status": "new", "title": key}),
                        True,
                    )
                )
                if status == Status.NEW:
                    event_rows.append(
                        (
                            next(event_ids),
                            when(worked),
                            requester,
                            org_id,
                            "desk.ticket",
                            ticket_id,
                            "updated",
                            "{}",
                            '{"description": "…"}',
                            True,
                        )
                    )
                else:
                    event_rows.append(
                        (
                            next(event_ids),
                            when(updated),
                            agent,
                            org_id,
                            "desk.ticket",
                            ticket_id,
                            "status_changed",
                            '{"status": "new"}',
                            json.dumps({"status": status}),
                            True,
                        )
                    )
            with Ticket.search_index.bulk_insert(ticket_rows[0][0], ticket_rows[-1][0]):
                tickets.insert(ticket_rows)
            similar_index.fill(Ticket, ticket_rows[0][0], ticket_rows[-1][0])
            comments.insert(comment_rows)
            events.insert(event_rows)
            clocks.insert(clock_rows)
        made += size
        bar.update(size)
    bar.close()
    # Statistics for the planner, as a settled database has them (PostgreSQL: and the
    # visibility map, without which index-only scans still read the table).
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # VACUUM cannot run in a transaction (a test's, or a caller's atomic block):
            # there the statistics alone.
            verb = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            for model in (Ticket, TicketWord, Comment, Event, Clock):
                cursor.execute(f"{verb} {model._meta.db_table}")
        else:
            cursor.execute("ANALYZE")
