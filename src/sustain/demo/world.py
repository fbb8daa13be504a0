"""A realistic small world for trying Sustain (`sustain demo`, `sustain run --demo`)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from sustain.accounts import actions as accounts
from sustain.accounts.models import Organization, Role, User
from sustain.cmdb import actions as cmdb
from sustain.cmdb.models import ConfigItem
from sustain.core import outbox
from sustain.demo.clock import at

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


HISTORY = timedelta(days=180)  # what the reports chart
LIVE = timedelta(hours=6)  # the hours before loading in which mail and webhooks go out


def load_world(tickets: int = 150, seed: int = 7) -> None:
    """Three customers, two teams, products and environments; service levels, escalation,
    on-call and a webhook; monitoring (monitoring.py); configuration documents and drift
    (configs.py); six months of tickets in every state, played through the actions
    (history.py), ending in the last hours' tickets (live.py) at the moment of loading."""
    from sustain.demo import service
    from sustain.demo.configs import configurations
    from sustain.demo.history import Timeline, generated
    from sustain.demo.live import last_hours
    from sustain.demo.metrics import application_metrics
    from sustain.demo.monitoring import alerts, backup_heartbeat, prometheus_rule
    from sustain.demo.releases import fix_loop

    rng = random.Random(seed)
    now = timezone.now()
    start = now - HISTORY
    with transaction.atomic():
        with outbox.paused(), at(start - timedelta(days=20)):
            made = _organizations()
            admin, people, teams = made["admin"], made["people"], made["teams"]
            acme = Organization.objects.get(slug="acme")
            service.service_levels(admin, acme, sorted({start.year, now.year, now.year + 1}))
            schedule = service.on_call(
                admin,
                teams["platform"],
                [people["bob"], people["mia"], people["alice"]],
                start.date(),
            )
            service.escalation_rules(admin)
        timeline = Timeline(now=now, live_from=now - LIVE)
        timeline.every(now - timedelta(days=2), timedelta(hours=1))
        timeline.every(now - LIVE, timedelta(minutes=5))
        timeline.every(now - timedelta(minutes=30), timedelta(minutes=1))
        words = {
            "subjects": SUBJECTS,
            "answers": REPLIES[:2] + REPLIES[3:5],
            "replies": REPLIES[2:],
            "notes": NOTES,
        }
        generated(timeline, made["cast"], rng, tickets, start, now - timedelta(hours=12), words)
        fix_loop(timeline)
        last_hours(timeline, people, made["items"], teams)
        timeline.add(now - LIVE, lambda: service.webhook(people["alice"], acme))
        alerts(timeline, people, made["items"], teams)
        backup_heartbeat(timeline, people, made["items"])
        configurations(timeline, admin, people, made["items"])
        prometheus_rule(timeline, people)
        application_metrics(timeline, people, made["items"])
        saturday = (now + timedelta(days=(5 - now.weekday()) % 7 or 7)).replace(
            hour=8, minute=0, second=0, microsecond=0
        )
        timeline.add(
            now - timedelta(days=1),
            lambda: service.cover(
                people["mia"], schedule, people["alice"], saturday, saturday + timedelta(days=2)
            ),
        )
        timeline.run()


def _login(user: User, admin: User) -> User:
    """The demo password for `user`: the admin's hash of it, reused. Argon2 takes most of a
    second per hash by design, and every demo login has the same password anyway."""
    user.password = admin.password
    user.save(update_fields=["password"])
    return user


def _organizations() -> dict[str, Any]:
    """The provider with its staff and teams, the customers with their people, products,
    versions and environments."""
    from sustain.demo.history import Cast

    provider = Organization.objects.create(
        name="Northwind Support", slug="northwind", is_provider=True
    )
    admin = User.objects.create_superuser(
        "admin@sustain.localhost", DEMO_PASSWORD, name="Ada Admin", organization=provider
    )
    agents = {
        name: _login(
            accounts.create_user(
                admin,
                email=f"{name}@sustain.localhost",
                name=full,
                organization=provider,
                role=role,
            ),
            admin,
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
    ledger_versions = [cmdb.add_version(admin, ledger, name=v) for v in ("2.3.0", "2.4.0", "2.4.1")]
    gateway_versions = [cmdb.add_version(admin, gateway, name=v) for v in ("1.0.0", "1.1.0")]

    people: dict[str, Any] = dict(agents)
    items: dict[str, Any] = {}
    customers = []
    for name, slug, see_all, person, person_name in [
        ("Acme Corp", "acme", True, "carol@acme.example", "Carol Customer"),
        ("Globex", "globex", True, "dave@globex.example", "Dave Dunn"),
        ("Initech", "initech", False, "erin@initech.example", "Erin Evans"),
    ]:
        org = accounts.create_organization(
            admin, name=name, slug=slug, customers_see_all_tickets=see_all
        )
        contact = _login(
            accounts.create_user(admin, email=person, name=person_name, organization=org), admin
        )
        operations = _login(
            accounts.create_user(
                admin, email=f"ops@{slug}.example", name=f"{name} Operations", organization=org
            ),
            admin,
        )
        people[person.split("@")[0]] = contact
        people[f"{slug}-ops"] = operations
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
        for item in (prod, staging, server, database):
            items[item.name] = item
        customers.append((org, [contact, operations], [prod, staging, server, database]))
    teams = {"desk": desk_team, "platform": platform}
    cast = Cast(
        customers=customers,
        agents=[
            (agents["alice"], desk_team),
            (agents["bob"], platform),
            (agents["mia"], platform),
            (agents["bob"], desk_team),
        ],
    )
    return {"admin": admin, "people": people, "items": items, "teams": teams, "cast": cast}
