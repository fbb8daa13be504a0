"""A realistic small world for trying Sustain, and a bulk generator for benchmarks."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from sustain.accounts import actions as accounts
from sustain.accounts.models import Organization, Role, Team, User
from sustain.cmdb import actions as cmdb
from sustain.cmdb.models import ConfigItem
from sustain.core import counters, outbox
from sustain.core.models import Event
from sustain.desk import actions as desk
from sustain.desk.models import KEY_PREFIX, Channel, Comment, Kind, Status, Ticket

DEMO_PASSWORD = "sustain-demo-2026"

SUBJECTS = [
    "Checkout page returns 502 after deploy",
    "Nightly export job did not run",
    "Users cannot reset their password",
    "Invoice PDF shows wrong VAT rate",
    "Dashboard loads slowly since Monday",
    "Please add a new user for the finance team",
    "Request: increase API rate limit",
    "Search returns no results for accented names",
    "SSL certificate expires next week",
    "Login loop on Safari",
    "Queue backlog growing",
    "Database disk usage at 85%",
    "Request: copy production data to staging",
    "E-mail notifications arrive twice",
    "Timeout when uploading large files",
    "Report totals differ from the ledger",
    "Access request for the admin console",
    "Memory leak in the worker process",
    "Webhook deliveries failing with 401",
    "Scheduled maintenance window question",
]
REPLIES = [
    "Thanks for the report, we are looking into it.",
    "Could you send us the time it happened and a screenshot?",
    "Here is the screenshot and the log excerpt.",
    "We found the cause and are preparing a fix.",
    "The fix is deployed to your environment; please check.",
    "Confirmed, it works again. Thank you!",
    "We need the exact version you are running.",
    "It happens again this morning.",
]
NOTES = [
    "Probably the connection pool; check the gunicorn logs.",
    "Escalating to Platform.",
    "Customer is on the old version, see CMDB.",
    "Duplicate of last week's outage?",
]


def database_is_empty() -> bool:
    return not User.objects.exists()


def load_world(tickets: int = 200, seed: int = 7) -> None:
    """Three customers, two teams, products, environments and tickets in every state."""
    rng = random.Random(seed)
    with outbox.paused(), transaction.atomic():
        provider = Organization.objects.create(
            name="Northwind Support", slug="northwind", is_provider=True
        )
        admin = User.objects.create_superuser(
            "admin@sustain.localhost", DEMO_PASSWORD, name="Ada Admin", organization=provider
        )
        agents = {
            name: accounts.create_user(
                admin,
                email=f"{name}@sustain.localhost",
                name=full,
                organization=provider,
                role=role,
                password=DEMO_PASSWORD,
            )
            for name, full, role in [
                ("alice", "Alice Agent", Role.AGENT),
                ("bob", "Bob Builder", Role.AGENT),
                ("mia", "Mia Manager", Role.MANAGER),
            ]
        }
        desk_team = accounts.create_team(
            admin,
            name="Service Desk",
            lead=agents["alice"],
            members=[agents["alice"], agents["bob"]],
        )
        platform = accounts.create_team(
            admin, name="Platform", lead=agents["mia"], members=[agents["bob"], agents["mia"]]
        )
        ledger = cmdb.create_product(admin, name="Ledger", description="Accounting web application")
        gateway = cmdb.create_product(admin, name="Gateway", description="Payment gateway service")
        for component in ("API", "Web", "Billing"):
            cmdb.add_component(admin, ledger, name=component)
        ledger_versions = [
            cmdb.add_version(admin, ledger, name=v) for v in ("2.3.0", "2.4.0", "2.4.1")
        ]
        gateway_versions = [cmdb.add_version(admin, gateway, name=v) for v in ("1.0.0", "1.1.0")]

        customers = []
        for name, slug, see_all, person, person_name in [
            ("Acme Corp", "acme", True, "carol@acme.example", "Carol Customer"),
            ("Globex", "globex", True, "dave@globex.example", "Dave Dunn"),
            ("Initech", "initech", False, "erin@initech.example", "Erin Evans"),
        ]:
            org = accounts.create_organization(
                admin, name=name, slug=slug, customers_see_all_tickets=see_all
            )
            people = [
                accounts.create_user(
                    admin, email=person, name=person_name, organization=org, password=DEMO_PASSWORD
                )
            ]
            people.append(
                accounts.create_user(
                    admin,
                    email=f"ops@{slug}.example",
                    name=f"{name} Operations",
                    organization=org,
                    password=DEMO_PASSWORD,
                )
            )
            product, versions = (
                (gateway, gateway_versions) if slug == "initech" else (ledger, ledger_versions)
            )
            prod = cmdb.create_config_item(
                admin,
                organization=org,
                name=f"{slug}-production",
                kind=ConfigItem.Kind.ENVIRONMENT,
                product=product,
                version=versions[-1],
            )
            staging = cmdb.create_config_item(
                admin,
                organization=org,
                name=f"{slug}-staging",
                kind=ConfigItem.Kind.ENVIRONMENT,
                product=product,
                version=versions[0],
            )
            server = cmdb.create_config_item(
                admin, organization=org, name=f"{slug}-app-01", kind=ConfigItem.Kind.SERVER
            )
            database = cmdb.create_config_item(
                admin, organization=org, name=f"{slug}-db", kind=ConfigItem.Kind.DATABASE
            )
            cmdb.relate(admin, server, prod, "part_of")
            cmdb.relate(admin, prod, database, "depends_on")
            customers.append((org, people, [prod, staging, server, database]))

        staff = [agents["alice"], agents["bob"], agents["mia"]]
        states = [
            Status.NEW,
            Status.OPEN,
            Status.PENDING,
            Status.RESOLVED,
            Status.CLOSED,
            Status.CANCELLED,
        ]
        now = timezone.now()
        for i in range(tickets):
            org, people, items = customers[i % len(customers)]
            requester = rng.choice(people)
            ticket = desk.open_ticket(
                requester,
                title=rng.choice(SUBJECTS),
                kind=rng.choice([Kind.INCIDENT, Kind.INCIDENT, Kind.REQUEST]),
                description=f"Seen on **{items[0].name}**.\n\nSteps:\n\n1. Log in\n2. Open the page\n",
                affected_ci=rng.choice(items),
                impact=rng.randint(1, 3),
                urgency=rng.randint(1, 3),
            )
            target = states[i % len(states)]
            agent = rng.choice(staff)
            if target != Status.NEW and not (target == Status.CANCELLED and i % 2):
                team = desk_team if agent in (agents["alice"],) else platform
                desk.assign(agent, ticket, team=team, assignee=agent)
                desk.add_comment(agent, ticket, rng.choice(REPLIES[:2] + REPLIES[3:5]))
                if rng.random() < 0.5:
                    desk.add_comment(agent, ticket, rng.choice(NOTES), is_public=False)
                desk.add_comment(requester, ticket, rng.choice(REPLIES[2:]))
            if target == Status.PENDING:
                desk.transition(agent, ticket, Status.PENDING)
            elif target in (Status.RESOLVED, Status.CLOSED):
                desk.transition(agent, ticket, Status.RESOLVED)
                if target == Status.CLOSED:
                    desk.transition(agent, ticket, Status.CLOSED)
            elif target == Status.CANCELLED:
                desk.transition(requester, ticket, Status.CANCELLED)
            # Spread the history over the last two months.
            age = timedelta(minutes=rng.randint(30, 60 * 24 * 60))
            Ticket.objects.filter(pk=ticket.pk).update(
                created_at=now - age, updated_at=now - age / rng.randint(2, 10)
            )


def bulk_tickets(count: int, batch: int = 5000, progress: bool = True, seed: int = 11) -> None:
    """N tickets with two comments and two events each, by bulk insert (benchmarks)."""
    from tqdm import tqdm

    rng = random.Random(seed)
    if database_is_empty():
        load_world(tickets=20)
    customers = [
        (org, list(org.users.all()), list(org.config_items.all()))
        for org in Organization.objects.filter(is_provider=False)
    ]
    agents = list(User.objects.exclude(role=Role.CUSTOMER))
    teams = list(Team.objects.all())
    statuses = (
        [Status.NEW, Status.OPEN, Status.PENDING]
        + [Status.RESOLVED, Status.CLOSED] * 4
        + [Status.CANCELLED]
    )
    first_inc = counters.reserve(f"ticket:{Kind.INCIDENT}", count)
    now = timezone.now()
    bar = tqdm(total=count, unit="tickets", disable=not progress)
    made = 0
    while made < count:
        size = min(batch, count - made)
        rows = []
        for n in range(made, made + size):
            org, people, items = customers[n % len(customers)]
            status = rng.choice(statuses)
            created = now - timedelta(minutes=rng.randint(1, 60 * 24 * 365 * 2))
            assigned = status != Status.NEW and rng.random() < 0.9
            rows.append(
                Ticket(
                    key=f"{KEY_PREFIX[Kind.INCIDENT]}-{first_inc + n}",
                    kind=Kind.INCIDENT,
                    title=f"{rng.choice(SUBJECTS)} #{n}",
                    description=rng.choice(REPLIES),
                    organization=org,
                    requester=rng.choice(people),
                    affected_ci=rng.choice(items) if items else None,
                    impact=rng.randint(1, 3),
                    urgency=rng.randint(1, 3),
                    priority=rng.randint(1, 4),
                    status=status,
                    channel=rng.choice(Channel.values),
                    team=rng.choice(teams) if assigned else None,
                    assignee=rng.choice(agents) if assigned else None,
                    created_at=created,
                    updated_at=created + timedelta(hours=rng.randint(1, 200)),
                    resolved_at=created + timedelta(hours=5)
                    if status in (Status.RESOLVED, Status.CLOSED)
                    else None,
                )
            )
        with outbox.paused(), transaction.atomic():
            tickets = Ticket.objects.bulk_create(rows, batch_size=1000)
            if connection.vendor == "sqlite" or tickets[0].pk is None:
                keys = [t.key for t in tickets]
                ids = dict(Ticket.objects.filter(key__in=keys).values_list("key", "id"))
                for t in tickets:
                    t.pk = ids[t.key]
            comments, events = [], []
            for t in tickets:
                comments.append(
                    Comment(
                        ticket_id=t.pk,
                        author_id=t.requester_id,
                        body=rng.choice(REPLIES),
                        created_at=t.created_at + timedelta(minutes=5),
                    )
                )
                comments.append(
                    Comment(
                        ticket_id=t.pk,
                        author_id=t.assignee_id,
                        body=rng.choice(NOTES),
                        is_public=False,
                        created_at=t.created_at + timedelta(minutes=30),
                    )
                )
                events.append(
                    Event(
                        target_type="desk.ticket",
                        target_id=t.pk,
                        verb="created",
                        organization_id=t.organization_id,
                        actor_id=t.requester_id,
                        after={"status": "new"},
                        created_at=t.created_at,
                    )
                )
                events.append(
                    Event(
                        target_type="desk.ticket",
                        target_id=t.pk,
                        verb="status_changed",
                        organization_id=t.organization_id,
                        actor_id=t.assignee_id,
                        before={"status": "new"},
                        after={"status": t.status},
                        created_at=t.updated_at,
                    )
                )
            Comment.objects.bulk_create(comments, batch_size=2000)
            Event.objects.bulk_create(events, batch_size=2000)
        made += size
        bar.update(size)
    bar.close()
