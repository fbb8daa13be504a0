"""A realistic small world for trying Sustain (`sustain demo`, `sustain run --demo`)."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from sustain.accounts import actions as accounts
from sustain.accounts.models import Organization, Role, User
from sustain.cmdb import actions as cmdb
from sustain.cmdb.models import ConfigItem
from sustain.core import outbox
from sustain.desk import actions as desk
from sustain.desk.models import Kind, Status, Ticket

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
        # Bugs, releases and deployments (built through those apps' own actions).
        from sustain.demo.releases import load_fix_loop_world

        load_fix_loop_world()
