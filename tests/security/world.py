"""The fixture world of the security suite: two customers with the same kinds of objects.

Acme and Globex each own a ticket with a public reply, an internal note, a public and an
internal attachment, a second ticket, configuration items with a relation, a calendar and an
SLA policy; their customers watch their tickets and hold API tokens. The provider owns a major
incident with one child ticket of each customer and a configuration item both customers' items
depend on. Every object carries a marker (a distinctive text or number) with its owner, so any
response can be scanned for what its reader must not see.

Roles: anonymous; carol (customer of Acme); dave (customer of Globex); sam (an agent who serves
only Acme); alice (agent), mia (manager) and root (admin), who serve every organization.
A role's "home" side is the customer it belongs to or serves, its "foreign" side the other one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from sustain.accounts import actions as accounts
from sustain.accounts.models import ApiToken, Organization, Role, Team, User
from sustain.bugs.models import Repository
from sustain.bugs.vcs import repositories as vcs_repositories
from sustain.cmdb import actions as cmdb
from sustain.cmdb.models import ConfigItem, Product
from sustain.desk import actions as desk
from sustain.desk.models import Attachment, Comment, Ticket
from sustain.hooks import actions as hooks
from sustain.hooks.models import Delivery, Subscription
from sustain.mail import store
from sustain.mail.models import InboundMail
from sustain.monitoring import actions as monitoring
from sustain.monitoring import heartbeats
from sustain.monitoring.models import Alert, Heartbeat, MachineToken, Probe, ProbeResult, Source
from sustain.sla import actions as sla
from sustain.sla.models import Calendar, EscalationRule, OnCallOverride, OnCallSchedule, Policy
from sustain.sla.models import Page as OnCallPage
from tests.base import SustainTestCase
from tests.security.world_bugs import build_bugs
from tests.security.world_configs import build_configs
from tests.security.world_dashboards import build_pins
from tests.security.world_deployments import build_install_base
from tests.security.world_releases import build_releases
from tests.security.world_rules import build_rules
from tests.security.world_scrapes import build_scrapes
from tests.security.world_series import build_series

ROLES = ("anonymous", "carol", "dave", "sam", "alice", "mia", "root")
# The roles that serve only some customers: every foreign object must stay out of their reach.
TENANT_BOUND = ("carol", "dave", "sam")
HOME = {"anonymous": "acme", "carol": "acme", "dave": "globex", "sam": "acme"}
PROVIDER = "northwind"


# --- owners: who may see an object ------------------------------------------------------
@dataclass(frozen=True)
class Owner:
    """kind: org (rows of a customer), internal (a customer's rows only staff see),
    personal (one user's), staff (agents and up), everyone (any signed-in user)."""

    kind: str
    slug: str = ""
    email: str = ""


def org(slug: str) -> Owner:
    return Owner("org", slug=slug)


def internal(slug: str) -> Owner:
    return Owner("internal", slug=slug)


def personal(email: str) -> Owner:
    return Owner("personal", email=email)


STAFF = Owner("staff")
EVERYONE = Owner("everyone")


@dataclass(frozen=True)
class Marker:
    label: str
    pattern: re.Pattern[str]
    owner: Owner


def text_marker(label: str, text: str, owner: Owner) -> Marker:
    return Marker(label, re.compile(rf"(?<![\w.-]){re.escape(text)}(?![\w-])", re.I), owner)


def number_marker(label: str, number: int, owner: Owner) -> Marker:
    return Marker(label, re.compile(rf"(?<!\d){number}(?!\d)"), owner)


# --- the world ---------------------------------------------------------------------------
@dataclass
class Side:
    """One customer organization and what it owns."""

    slug: str
    org: Organization
    customer: User
    ticket: Ticket
    ticket2: Ticket
    public_comment: Comment
    internal_comment: Comment
    public_attachment: Attachment
    internal_attachment: Attachment
    ci: ConfigItem
    ci2: ConfigItem
    calendar: Calendar
    policy: Policy
    token: ApiToken
    agent: User  # an agent who serves only this customer (sam for Acme, gus for Globex)
    page: OnCallPage  # a page about this customer's ticket, sent to that agent
    rule: EscalationRule
    subscription: Subscription  # a webhook for this customer's events
    delivery: Delivery  # one attempt in its log
    held_mail: InboundMail  # held for review, from this customer
    source: Source  # an Alertmanager source of this customer's
    alert: Alert  # firing, on the side's configuration item
    machine_token: MachineToken  # writes this customer's alerts
    heartbeat: Heartbeat  # a job of this customer's, pinged once with a log, paused
    probe: Probe  # an HTTP probe of this customer's site, with one failed result
    paused_probe: Probe  # a TCP probe, paused (so that resuming it changes something)


@dataclass
class World:
    sides: dict[str, Side]
    users: dict[str, User]
    team: Team
    product: Product
    major_incident: Ticket
    shared_ci: ConfigItem
    shared_calendar: Calendar
    schedule: OnCallSchedule
    tokens: dict[str, str]  # role -> raw bearer token
    markers: list[Marker] = field(default_factory=list)
    clients: dict[tuple[str, str], Client] = field(default_factory=dict)
    repository: Repository | None = None  # staff only; its push webhook is signed
    override: OnCallOverride | None = None  # Bob takes a shift of the rota

    # what a role may see
    def user(self, role: str) -> User | None:
        return self.users.get(role)

    def home(self, role: str) -> Side:
        return self.sides[HOME.get(role, "acme")]

    def foreign(self, role: str) -> Side:
        return self.sides["acme" if HOME.get(role, "acme") == "globex" else "globex"]

    def sees(self, role: str, owner: Owner) -> bool:
        user = self.user(role)
        if user is None:
            return False
        if owner.kind == "everyone":
            return True
        if owner.kind == "personal":
            return user.email == owner.email
        if owner.kind == "paged":
            return user.email == owner.email or user.is_manager
        if owner.kind == "staff":
            return user.is_agent
        if owner.kind == "bug":  # product-wide: all staff; customers of the org it hit
            return user.is_agent or user.organization.slug == owner.slug
        if owner.kind == "internal" and user.is_customer:
            return False
        if user.is_customer:
            return user.organization.slug == owner.slug
        if user.serves_all_organizations or user.is_manager:
            return True
        served = {PROVIDER, *(o.slug for o in user.served_organizations.all())}
        return owner.slug in served

    def forbidden_markers(self, role: str) -> list[Marker]:
        return [m for m in self.markers if not self.sees(role, m.owner)]

    def leaks(self, role: str, text: str) -> list[str]:
        return [m.label for m in self.forbidden_markers(role) if m.pattern.search(text)]

    # clients, one per role and kind: a new client loads the middleware again (whitenoise
    # then walks every static file), which would cost more than the requests themselves
    def api_client(self, role: str) -> Client:
        if ("api", role) not in self.clients:
            token = self.tokens.get(role)
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            self.clients["api", role] = Client(headers=headers)
        return self.clients["api", role]

    def web_client(self, role: str) -> Client:
        """Signed in with a session made with the world (it outlives each test's rollback)."""
        if ("web", role) not in self.clients:
            client = Client()
            user = self.user(role)
            if user is not None:
                client.force_login(user)
            self.clients["web", role] = client
        return self.clients["web", role]


class _Base(SustainTestCase):
    """Only borrowed for its named actors (setUpTestData); never collected as a test."""

    __test__ = False


def build_world() -> World:
    _Base.setUpTestData()
    base = _Base
    root, alice, mia = base.root, base.alice, base.mia
    users: dict[str, User] = {
        "carol": base.carol,
        "dave": base.dave,
        "alice": alice,
        "mia": mia,
        "root": root,
    }

    def restricted_agent(email: str, name: str, serves: Organization) -> User:
        return accounts.create_user(
            root,
            email=email,
            name=name,
            organization=base.provider,
            role=Role.AGENT,
            serves_all_organizations=False,
            served_organizations=[serves],
        )

    users["sam"] = restricted_agent("sam@northwind.test", "Sam Restricted", base.acme)
    gus = restricted_agent("gus@northwind.test", "Gus Restricted", base.globex)

    shared_calendar = sla.create_calendar(root, name="Shared hours 7731", always=True)
    shared_ci = ConfigItem.objects.create(
        pk=710001, organization=base.provider, name="northwind-shared-db", kind="database"
    )
    schedule = sla.create_schedule(
        root,
        team=base.service_desk,
        name="Northwind rota 7731",
        slug="northwind-rota",
        participants=[alice, base.bob],
        rotation_start=date(2026, 1, 5),
    )
    override = sla.add_override(
        root,
        schedule,
        user=base.bob,
        start=timezone.now() + timedelta(days=1),
        end=timezone.now() + timedelta(days=2),
    )
    major = desk.open_ticket(
        root, title="Northwind major outage 7731", organization=base.provider, impact=1, urgency=1
    )

    sides: dict[str, Side] = {}
    markers: list[Marker] = []
    for slug, org_obj, customer, agent, pk_base in (
        ("acme", base.acme, base.carol, users["sam"], 810000),
        ("globex", base.globex, base.dave, gus, 910000),
    ):
        title = slug.capitalize()
        ci = ConfigItem.objects.create(
            pk=pk_base + 1, organization=org_obj, name=f"{slug}-app-7731", kind="service"
        )
        ci2 = ConfigItem.objects.create(
            pk=pk_base + 2, organization=org_obj, name=f"{slug}-db-7731", kind="database"
        )
        cmdb.relate(root, ci, ci2, "depends_on")
        cmdb.relate(root, ci, shared_ci, "runs_on")
        ticket = desk.open_ticket(
            customer,
            title=f"{title} boiler explodes 7731",
            description=f"{slug}-description-7731",
            affected_ci=ci,
        )
        ticket2 = desk.open_ticket(
            customer, title=f"{title} printer jams 7731", description=f"{slug}-second-7731"
        )
        public = desk.add_comment(alice, ticket, f"{slug}-public-reply-7731")
        note = desk.add_comment(alice, ticket, f"{slug}-internal-note-7731", is_public=False)
        public_file = desk.add_attachment(
            customer, ticket, f"{slug}-evidence-7731.txt", f"{slug}-file-content-7731".encode()
        )
        internal_file = desk.add_attachment(
            alice,
            ticket,
            f"{slug}-internal-dump-7731.txt",
            f"{slug}-internal-content-7731".encode(),
            is_public=False,
        )
        desk.watch(customer, ticket)
        desk.watch(customer, ticket2)
        desk.link(alice, ticket2, ticket, "related")
        desk.set_parent(root, ticket2, major)
        calendar = sla.create_calendar(
            root,
            name=f"{title} hours 7731",
            timezone_name="Europe/Berlin",
            hours={"mon": [["09:00", "17:00"]]},
            organization=org_obj,
        )
        policy = sla.create_policy(
            root,
            name=f"{title} gold 7731",
            calendar=shared_calendar,
            organization=org_obj,
            targets=[{"priority": 3, "metric": "resolution", "minutes": 480}],
        )
        rule = sla.create_escalation_rule(
            root,
            name=f"{title} escalation 7731",
            condition="unassigned",
            minutes=30,
            organization=org_obj,
            levels=[{"delay_minutes": 0, "actions": [{"do": "notify", "who": "team_lead"}]}],
        )
        token, _raw = accounts.create_token(None, customer, name=f"{slug}-token-7731")
        subscription, _secret = hooks.create_subscription(
            root,
            name=f"{title} hook 7731",
            url=f"https://{slug}-receiver-7731.example.test/hook",
            organization=org_obj,
            include_internal=True,
        )
        delivery = Delivery.objects.create(
            subscription=subscription,
            delivery_id=f"00000000-0000-0000-0000-{pk_base:012d}",
            event="comment.created",
            request_body=json.dumps(
                hooks.envelope(
                    "comment.created", f"{slug}-event-7731", timezone.now(), ticket, comment=note
                ),
                default=str,
            ),
            status_code=500,
            response_excerpt=f"{slug}-receiver-said-7731",
            error="HTTP 500",
        )
        held_raw = (
            f"From: {customer.email}\r\nTo: support@sustain.localhost\r\n"
            f"Subject: {title} held mail 7731\r\nMessage-ID: <held-{slug}-7731@test>\r\n\r\n"
            f"{slug}-held-text-7731\r\n"
        ).encode()
        held_mail = InboundMail.objects.create(
            message_id=f"held-{slug}-7731@test",
            sender=customer.email,
            subject=f"{title} held mail 7731",
            status=InboundMail.Status.HELD,
            reason="fixture",
            text=f"{slug}-held-text-7731",
            raw_path=store.save(held_raw),
            size=len(held_raw),
            organization=org_obj,
        )
        page = OnCallPage.objects.create(
            schedule=schedule,
            ticket=ticket,
            user=agent,
            reason=f"{slug} page 7731",
            ack_due_at=timezone.now() + timedelta(minutes=15),
        )
        source = monitoring.create_source(root, org_obj, name=f"{title} alertmanager 7731")
        alert = Alert.objects.create(
            source=source,
            organization=org_obj,
            fingerprint=f"{slug}-fingerprint-7731",
            name=f"{title}DiskFull7731",
            state=Alert.State.FIRING,
            labels={"alertname": f"{title}DiskFull7731", "instance": f"{slug}-host-7731"},
            config_item=ci,
            starts_at=timezone.now(),
        )
        machine_token, _machine_raw = monitoring.create_machine_token(
            root, org_obj, name=f"{slug}-machine-token-7731", source=source
        )
        heartbeat = monitoring.create_heartbeat(
            root, org_obj, name=f"{slug}-heartbeat-7731", config_item=ci
        )
        heartbeats.ping(
            heartbeat.uuid, heartbeats.Call(kind="success", body=f"{slug}-ping-log-7731")
        )
        heartbeat = monitoring.pause(root, heartbeat)  # so that resuming it changes something
        # Weekly, an hour long, last on three hours ago: on the calendar and the status page,
        # never holding an alert the tests raise now.
        first = timezone.now() - timedelta(days=14, hours=3)
        monitoring.create_window(
            root,
            org_obj,
            name=f"{slug}-window-7731",
            starts_at=first,
            ends_at=first + timedelta(hours=1),
            rrule="FREQ=WEEKLY",
            config_items=[ci],
        )
        probe = monitoring.create_probe(
            root,
            org_obj,
            name=f"{slug}-probe-7731",
            url=f"https://{slug}-shop-7731.example.test/health",
            config_item=ci,
        )
        ProbeResult.objects.create(probe=probe, ok=False, error=f"{slug}-probe-error-7731")
        paused_probe = monitoring.pause_probe(
            root,
            monitoring.create_probe(
                root,
                org_obj,
                name=f"{slug}-paused-probe-7731",
                kind="tcp",
                host=f"{slug}-db-7731.example.test",
                port=5432,
            ),
        )
        sides[slug] = Side(
            slug=slug,
            org=org_obj,
            customer=customer,
            ticket=ticket,
            ticket2=ticket2,
            public_comment=public,
            internal_comment=note,
            public_attachment=public_file,
            internal_attachment=internal_file,
            ci=ci,
            ci2=ci2,
            calendar=calendar,
            policy=policy,
            token=token,
            agent=agent,
            page=page,
            rule=rule,
            subscription=subscription,
            delivery=delivery,
            held_mail=held_mail,
            source=source,
            alert=alert,
            machine_token=machine_token,
            heartbeat=heartbeat,
            probe=probe,
            paused_probe=paused_probe,
        )
        own, hidden = org(slug), internal(slug)
        markers += [
            text_marker(f"{slug} organization", slug, own),
            text_marker(f"{slug} customer e-mail", customer.email, own),
            text_marker(f"{slug} ticket key", ticket.key, own),
            text_marker(f"{slug} second ticket key", ticket2.key, own),
            text_marker(f"{slug} ticket title", ticket.title, own),
            text_marker(f"{slug} description", f"{slug}-description-7731", own),
            text_marker(f"{slug} public reply", public.body, own),
            text_marker(f"{slug} attachment name", public_file.filename, own),
            text_marker(f"{slug} attachment content", f"{slug}-file-content-7731", own),
            text_marker(f"{slug} configuration item", ci.name, own),
            number_marker(f"{slug} configuration item id", ci.pk, own),
            number_marker(f"{slug} second configuration item id", ci2.pk, own),
            text_marker(f"{slug} calendar", calendar.name, hidden),
            text_marker(f"{slug} policy", policy.name, hidden),
            text_marker(f"{slug} escalation rule", rule.name, hidden),
            text_marker(f"{slug} internal note", note.body, hidden),
            text_marker(f"{slug} internal attachment name", internal_file.filename, hidden),
            text_marker(
                f"{slug} internal attachment content", f"{slug}-internal-content-7731", hidden
            ),
            text_marker(f"{slug} token", token.prefix, personal(customer.email)),
            text_marker(f"{slug} token name", token.name, personal(customer.email)),
            text_marker(f"{slug} page", page.reason, Owner("paged", email=agent.email)),
            text_marker(f"{slug} webhook", subscription.name, hidden),
            text_marker(f"{slug} webhook url", subscription.url, hidden),
            text_marker(f"{slug} webhook answer", f"{slug}-receiver-said-7731", hidden),
            text_marker(f"{slug} held mail", f"{slug}-held-text-7731", hidden),
            text_marker(f"{slug} alert", f"{title}DiskFull7731", own),
            text_marker(f"{slug} machine token", f"{slug}-machine-token-7731", hidden),
            text_marker(f"{slug} heartbeat", f"{slug}-heartbeat-7731", own),
            text_marker(f"{slug} maintenance window", f"{slug}-window-7731", own),
            text_marker(f"{slug} ping log", f"{slug}-ping-log-7731", own),
            text_marker(f"{slug} probe", f"{slug}-probe-7731", own),
            text_marker(f"{slug} probe url", f"{slug}-shop-7731.example.test", own),
            text_marker(f"{slug} probe result", f"{slug}-probe-error-7731", own),
            text_marker(f"{slug} paused probe", f"{slug}-paused-probe-7731", own),
        ]
    markers += [
        text_marker("major incident title", major.title, org(PROVIDER)),
        text_marker("shared configuration item", shared_ci.name, org(PROVIDER)),
        number_marker("shared configuration item id", shared_ci.pk, org(PROVIDER)),
    ]
    repository = vcs_repositories.create_repository(
        root,
        name="ledger-7731",
        product=base.product,
        webhook_secret="zz-world-webhook-secret-7731",
    )
    markers.append(text_marker("repository", repository.name, STAFF))
    build_install_base(base, sides, markers)
    build_series(base, sides, markers)
    build_rules(base, sides, markers)
    build_configs(base, sides, markers)
    build_scrapes(base, sides, markers)
    build_pins(base, sides, markers)
    build_releases(base, markers)
    build_bugs(base, sides, markers)
    tokens = {role: accounts.create_token(None, user)[1] for role, user in users.items()}
    return World(
        sides=sides,
        users=users,
        team=base.service_desk,
        product=base.product,
        major_incident=major,
        shared_ci=shared_ci,
        shared_calendar=shared_calendar,
        schedule=schedule,
        override=override,
        tokens=tokens,
        markers=markers,
        repository=repository,
    )


# --- "nothing changed": every table, and the stored files --------------------------------
# Tables a refused request may legitimately touch: the login session and throttling records,
# and the token's "last used" stamp (written at most once a minute, on any authenticated call).
UNTRACKED = {
    "sessions.session",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
    "contenttypes.contenttype",
    "auth.permission",
}


def database_state() -> dict[str, Any]:
    """Every row of every table (raw SQL: this runs twice per write in the matrix)."""
    state: dict[str, Any] = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            label = model._meta.label_lower
            if label in UNTRACKED or not model._meta.managed:
                continue
            cursor.execute(f"SELECT * FROM {quote(model._meta.db_table)} ORDER BY 1")
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            if model is ApiToken:
                keep = [i for i, c in enumerate(columns) if c != "last_used_at"]
                rows = [tuple(row[i] for i in keep) for row in rows]
            state[label] = rows
    state["files"] = sorted(
        str(p.relative_to(settings.MEDIA_ROOT)) for p in _media_root().rglob("*") if p.is_file()
    )
    return state


def _media_root():
    from pathlib import Path

    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    return root


def changed_tables(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def body_text(response: Any) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    return content.decode("utf-8", errors="replace")
