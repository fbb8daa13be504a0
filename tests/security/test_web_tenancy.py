"""Tenant isolation of the HTML pages, generated from the URL configuration.

Every page under every prefix (desk, portal, SLA, reports, attachments, whatever is added) is
opened by every role with a foreign organization's object in its URL, and every form posted
there; pages without an object are opened as lists and searched for the foreign objects. The
admin site must send everyone but administrators to its login. Everything under /api/ must be
in the OpenAPI schema, where test_api_tenancy covers it.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import transaction

from tests.security import surface, world_bugs, world_deployments, world_releases
from tests.security.world import (
    ROLES,
    TENANT_BOUND,
    Side,
    World,
    body_text,
    changed_tables,
    database_state,
)

ROUTES = surface.routes()
SIGNED_IN = [r for r in ROLES if r != "anonymous"]

# Pages that are not the product's: signing in and out, the health check, the metrics a
# scraper reads (token or allowed network; tests/monitoring/test_metrics.py checks it), and the
# ping URLs jobs call without an account (the uuid is the secret:
# tests/monitoring/test_heartbeats.py), and the OTLP/HTTP receiver, OpenTelemetry's format
# signed with a machine token (tests/monitoring/test_series_otlp.py). The API and the admin
# site are checked below in their own ways.
NOT_PAGES = {
    *("login", "logout", "healthz", "metrics", "ping:success", "ping:signal", "otlp_metrics"),
}
# Pages that only show; any other page changes something when posted to (a new page is taken
# for a form until it is listed here, and its control then says whether posting changed data).
READ_ONLY = {
    "home",
    "similar:suggest",
    "desk:queue",
    "desk:ticket",
    "desk:attachment",
    "portal:list",
    "portal:ticket",
    "sla:calendars",
    "sla:calendar",
    "sla:oncall",
    "sla:recompute",
    "sla:regions",
    "sla:rotation",
    "sla:escalation_rules",
    "reports:sla",
    "attachment",
    "hooks:list",
    "hooks:detail",
    "mail:list",
    "mail:raw",
    "releases:list",
    "releases:detail",
    "environments:list",
    "environments:detail",
    "portal_environments:list",
    "portal_environments:detail",
    "bugs:list",
    "bugs:triage",
    "bugs:bug",
    "bugs:attachment",
    "monitoring:alerts",
    "monitoring:alert",
    "monitoring:sources",
    "monitoring:heartbeats",
    "monitoring:heartbeat",
    "monitoring:calendar",
    "monitoring:item",
    "portal_status:status",
    "monitoring:probes",
    "monitoring:probe",
    "cmdb:documents",
    "cmdb:document_diff",
    "monitoring:rules",
    "monitoring:rule",
    "portal_rules:list",
    "portal_rules:detail",
    "monitoring:prometheus_sources",
    "monitoring:scrape_jobs",
    "monitoring:scrape_job",
    "monitoring:series_list",
    "monitoring:series",
    "monitoring:dashboard",
    "monitoring:item_dashboard",
    "portal_status:dashboard",
}

# Set-up pages for managers and administrators: agents who may see the object are refused.
MANAGERS_ONLY = {
    "sla:calendar_new",
    "sla:calendar_edit",
    "sla:calendar_delete",
    "sla:holiday_add",
    "sla:holiday_remove",
    "sla:holiday_import",
    "sla:regions",
    "sla:policy_new",
    "sla:policy_edit",
    "sla:policy_delete",
    "sla:policy_move",
    # escalation and on-call (a team's lead may change its rotation, a participant may add
    # an override for themselves; agents read escalation rules)
    "sla:escalation_new",
    "sla:escalation_rule",
    "sla:escalation_delete",
    "sla:escalation_toggle",
    "sla:rotation_new",
    "sla:rotation_edit",
    "sla:rotation_delete",
    "sla:override_add",
    "sla:override_remove",
    # probes are set up by managers (agents read them)
    "monitoring:probe_new",
    "monitoring:probe_edit",
    "monitoring:probe_pause",
    "monitoring:probe_resume",
    "monitoring:probe_run",
    "monitoring:probe_delete",
    # and so are scrape jobs
    "monitoring:scrape_job_new",
    "monitoring:scrape_job_edit",
    "monitoring:scrape_job_pause",
    "monitoring:scrape_job_resume",
    "monitoring:scrape_job_scrape",
    "monitoring:scrape_job_delete",
    # and so are heartbeats
    "monitoring:heartbeat_new",
    "monitoring:heartbeat_edit",
    "monitoring:heartbeat_pause",
    "monitoring:heartbeat_resume",
    "monitoring:heartbeat_delete",
    # and threshold rules and their Prometheus sources
    "monitoring:rule_new",
    "monitoring:rule_edit",
    "monitoring:rule_pause",
    "monitoring:rule_resume",
    "monitoring:rule_delete",
    "monitoring:prometheus_new",
    "monitoring:prometheus_edit",
    "monitoring:prometheus_delete",
    "monitoring:prometheus_test",
}
MANAGERS = ("mia", "root")

# What the forms take: name -> value for a side (callables) or a constant.
FORM: dict[str, Any] = {
    "body": "zz reply 7731",
    "is_public": "1",
    "status": "pending",
    "reason": "zz reason 7731",
    "team": lambda w, s: w.team.pk,
    "assignee": lambda w, s: w.users["alice"].pk,
    "me": "",
    "priority": "1",
    "target": lambda w, s: s.ticket2.key,
    "kind": "related",
    "parent": lambda w, s: w.major_incident.key,
    "tags": "zz-tag-7731",
    "on": "on",
    "name": "Zz filter 7731",
    "query": "queue=open",
    "shared": "",
    "title": "Zz title 7731",
    "description": "zz description 7731",
    "impact": "2",
    "urgency": "2",
    "organization": lambda w, s: s.org.pk,
    "requester": lambda w, s: s.customer.pk,
    "affected_ci": lambda w, s: s.ci2.pk,
    # webhooks
    "url": "https://zz-7731.example.test/hook",
    "events": "ticket.created",
    "active": "on",
    # notification settings
    "ticket_created": "digest",
    "public_reply": "digest",
    "status_changed": "immediate",
    "assigned": "immediate",
    "sla_warning": "immediate",
    "sla_breached": "immediate",
    "escalation": "immediate",
    "fix_deployed": "immediate",
    "digest_hour": "8",
    "language": "",
    "time_zone": "Europe/Berlin",
    # deployments
    "release": lambda w, s: world_deployments.release().pk,
}
ESCALATION = {
    "condition": "sla_breach",
    "levels": "1",
    "level-0-delay_minutes": "0",
    "level-0-notify": "managers",
}
ROTATION = {
    "timezone": "UTC",
    "shift_hours": "24",
    "handover": "09:00",
    "rotation_start": "2026-01-05",
    "ack_minutes": "15",
    "participant": lambda w, s: w.users["alice"].pk,
}
PROBE_FORM = {
    "kind": "http",
    "config_item": lambda w, s: s.ci2.pk,
    "method": "GET",
    "expected_status": "200-299",
    "tls_expiry_days": "14",
    "timeout_seconds": "10",
    "interval_seconds": "60",
    "fail_after": "2",
    "recover_after": "1",
}
SCRAPE_FORM = {
    "url": "https://zz-7731.example.test/metrics",
    "config_item": lambda w, s: s.ci2.pk,
    "interval_seconds": "60",
    "timeout_seconds": "10",
    "labels": "zz_env=zz-7731",
}
HEARTBEAT_FORM = {
    "config_item": lambda w, s: s.ci2.pk,
    "period_seconds": "86400",
    "grace_seconds": "3600",
    "time_zone": "UTC",
}
RULE_FORM = {
    "metric": "zz_metric_7731",
    "window_seconds": "300",
    "aggregation": "avg",
    "comparison": "above",
    "critical": "95",
    "for_seconds": "0",
    "keep_firing_for_seconds": "0",
    "no_data": "keep",
    "no_data_after_seconds": "600",
    "interval_seconds": "60",
}
PROMETHEUS_FORM = {"base_url": "http://127.0.0.1:9/zz-7731", "timeout_seconds": "5"}
FORM_OVERRIDES: dict[str, dict[str, Any]] = {
    "desk:new": {"kind": "incident"},
    "portal:new": {"kind": "incident"},
    "portal:status": {"status": "cancelled"},  # what a customer may do to a new ticket
    # the filter form on screen is what is saved: a filter the queue accepts
    "desk:save_filter": {
        **dict.fromkeys(("q", "organization", "team", "created_after", "created_before"), ""),
        "queue": "open",
        "status": "open",
        "priority": "2",
        "kind": "incident",
        "order": "newest",
    },
    # releases (the world's 2.4.4 is in testing, with one bug added by hand)
    "releases:new": {"product": lambda w, s: w.product.pk, "version": "2.4.9", "kind": "patch"},
    "releases:transition": {"status": "planned"},
    "releases:edit": {"summary": "zz summary 7731"},
    "releases:add_bug": {"bug": world_releases.FREE},
    "releases:remove_bug": {"bug": world_releases.INCLUDED},
    "releases:add_change": {"kind": "feature"},
    "releases:notes": {"customer_notes": "zz customer notes 7731"},
    "environments:move": {"status": "in_progress"},
    "bugs:new": {"product": lambda w, s: w.product.pk, "severity": "major", "priority": "3"},
    "bugs:status": {"status": "triaged"},
    "bugs:classify": {"severity": "critical"},
    "bugs:link": {"ticket": lambda w, s: s.ticket2.key},
    "bugs:unlink": {"ticket": lambda w, s: s.ticket.key},
    "bugs:duplicate": {"original": lambda w, s: world_bugs.second(s.slug).key},
    "bugs:line": {"line": "2.4", "status": "fixed", "fixed_version": "2.4.2"},
    # SLA set-up (the side's own calendar and policy; a new policy on the shared calendar)
    "sla:calendar_new": {
        "name": "Zz hours 7731",
        "timezone": "Europe/Berlin",
        "mon_start": "09:00",
        "mon_end": "17:00",
    },
    "sla:calendar_edit": {
        "name": "Zz hours 7731",
        "timezone": "Europe/Berlin",
        "mon_start": "08:00",
        "mon_end": "16:00",
    },
    "sla:holiday_add": {"date": "2026-12-24", "name": "Zz holiday 7731"},
    "sla:holiday_import": {"country": "DE", "subdivision": "", "year": "2026"},
    "sla:policy_new": {
        "name": "Zz policy 7731",
        "kind": "",
        "calendar": lambda w, s: w.shared_calendar.pk,
        "warn_percent": "75",
        "pause_statuses": "pending",
        "target_3_resolution": "480",
    },
    "sla:policy_edit": {
        "name": "Zz policy 7731",
        "kind": "",
        "calendar": lambda w, s: w.shared_calendar.pk,
        "warn_percent": "60",
        "pause_statuses": "pending",
    },
    "sla:policy_move": {"direction": "up"},
    # escalation and on-call set-up (the form's other fields come from FORM)
    "sla:escalation_new": {"name": "Zz rule 7731", **ESCALATION},
    "sla:escalation_rule": {"name": "Zz rule edited 7731", **ESCALATION},
    "sla:rotation_new": {"name": "Zz rota 7731", **ROTATION},
    "sla:rotation_edit": {"name": "Zz rota edited 7731", **ROTATION},
    "sla:override_add": {
        "user": lambda w, s: w.users["alice"].pk,
        "start": "2026-03-02T09:00",
        "end": "2026-03-03T09:00",
    },
    "monitoring:new_token": {"name": "zz machine token 7731"},
    "monitoring:probe_new": {"name": "Zz probe 7731", **PROBE_FORM},
    "monitoring:probe_edit": {"name": "Zz probe edited 7731", **PROBE_FORM},
    "monitoring:scrape_job_new": {"name": "Zz scrape 7731", **SCRAPE_FORM},
    "monitoring:scrape_job_edit": {"name": "Zz scrape edited 7731", **SCRAPE_FORM},
    "monitoring:heartbeat_new": {"name": "Zz heartbeat 7731", **HEARTBEAT_FORM},
    # configuration documents: a valid file name, and a rollback to the world's first version
    "cmdb:item_documents": {"name": "zz-form-7731.conf", "text": "zz form 7731", "format": ""},
    "cmdb:document_rollback": {"number": "1"},
    "monitoring:heartbeat_edit": {"name": "Zz heartbeat edited 7731", **HEARTBEAT_FORM},
    "monitoring:rule_new": {"name": "Zz threshold 7731", **RULE_FORM},
    "monitoring:rule_edit": {"name": "Zz threshold edited 7731", **RULE_FORM},
    "monitoring:prometheus_new": {"name": "Zz prometheus 7731", **PROMETHEUS_FORM},
    "monitoring:prometheus_edit": {"name": "Zz prometheus edited 7731", **PROMETHEUS_FORM},
    "monitoring:maintenance": {
        "name": "zz window 7731",
        "starts_at": "2026-12-13T02:00",
        "ends_at": "2026-12-13T04:00",
        "zone": "UTC",
        "config_items": lambda w, s: s.ci.pk,
    },
}
# Form fields that name another object, per page, with the foreign organization's one.
FORM_REFERENCES: dict[str, dict[str, Any]] = {
    "desk:new": {
        "organization": lambda w, s: s.org.pk,
        "requester": lambda w, s: s.customer.pk,
        "affected_ci": lambda w, s: s.ci2.pk,
    },
    "portal:new": {"affected_ci": lambda w, s: s.ci2.pk},
    "desk:link": {"target": lambda w, s: s.ticket2.key},
    "desk:parent": {"parent": lambda w, s: s.ticket.key},
    "desk:assign": {"assignee": lambda w, s: s.agent.pk},  # serves only the other customer
    "hooks:new": {"organization": lambda w, s: s.org.pk},
    "hooks:edit": {"organization": lambda w, s: s.org.pk},
    "bugs:new": {"environment": lambda w, s: s.ci2.pk},
    "bugs:link": {"ticket": lambda w, s: s.ticket2.key},
    "monitoring:new_token": {
        "organization": lambda w, s: s.org.pk,
        "source": lambda w, s: s.source.pk,
    },
    "monitoring:maintenance": {
        "organization": lambda w, s: s.org.pk,
        "config_items": lambda w, s: s.ci.pk,
    },
    "mail:detail": {  # releasing a held mail
        "organization": lambda w, s: s.org.pk,
        "ticket": lambda w, s: s.ticket.key,
    },
}


def form(world: World, side: Side, route: surface.Route) -> dict[str, Any]:
    data = {**FORM, **FORM_OVERRIDES.get(route.name, {})}
    return {k: (v(world, side) if callable(v) else v) for k, v in data.items()}


def all_pages() -> list[surface.Route]:
    return [
        r
        for r in ROUTES
        if not r.route.startswith(("api/", "^api/", "admin/")) and r.name not in NOT_PAGES
    ]


def pages() -> list[surface.Route]:
    """The pages whose URL parameters the tables know (the others fail the test below)."""
    return [r for r in all_pages() if all(p in surface.PATH_PARAMS for p in r.params)]


@pytest.mark.parametrize("route", all_pages(), ids=[r.id for r in all_pages()])
def test_the_matrix_knows_every_url_parameter(route: surface.Route) -> None:
    unknown = [p for p in route.params if p not in surface.PATH_PARAMS]
    assert not unknown, (
        f"/{route.route}: URL parameter(s) {unknown} are new. Add them to PATH_PARAMS in "
        "tests/security/surface.py (the value in the fixture world and the owner)."
    )


def is_write(route: surface.Route) -> bool:
    return route.name not in READ_ONLY


def request(world: World, role: str, method: str, path: str, data: Any = None) -> Any:
    client = world.web_client(role)
    return client.get(path, data) if method == "get" else client.post(path, data or {})


def assert_no_leak(world: World, role: str, response: Any, what: str) -> None:
    leaks = [m for m in world.leaks(role, body_text(response)) if m not in world.leaks(role, what)]
    assert not leaks, f"{what} shows {role} what {role} may not see: {', '.join(leaks)}"


def expected_ok(role: str, route: surface.Route, method: str) -> set[int]:
    """What a page answers a role allowed to see its object: the page, a redirect after a
    form, or the refusal of a role the page is not for (customers in the agent desk, agents
    on the managers' set-up pages)."""
    not_for_role = role in ("carol", "dave") or (
        route.name in MANAGERS_ONLY and role not in MANAGERS
    )
    if method == "post":
        return {200, 302, 422} | ({403} if not_for_role else set())
    if route.name == "home":
        return {302}
    return ({200, 405} if is_write(route) else {200}) | ({403} if not_for_role else set())


# --- 1. objects in the URL -------------------------------------------------------------------
def _object_cases():
    for route in pages():
        if not route.params:
            continue
        for role in SIGNED_IN:
            methods = ("get", "post") if is_write(route) else ("get",)
            for method in methods:
                yield pytest.param(route, role, method, "foreign", id=f"{route.id}|{role}|{method}")
            if not is_write(route):
                yield pytest.param(route, role, "get", "home", id=f"{route.id}|{role}|home")
                for variant, _ in surface.EXTRA_TARGETS.get(route.params[0], []):
                    yield pytest.param(
                        route, role, "get", variant, id=f"{route.id}|{role}|{variant}"
                    )


@pytest.mark.parametrize(("route", "role", "method", "target"), list(_object_cases()))
def test_object_in_url(w: World, route: surface.Route, role: str, method: str, target: str):
    side = w.foreign(role) if target == "foreign" else w.home(role)
    path, owner = route.path(w, side, "side" if target in ("foreign", "home") else target)
    allowed = w.sees(role, owner)
    before = database_state() if method == "post" else None

    response = request(w, role, method, path, form(w, side, route) if method == "post" else None)
    what = f"{method.upper()} {path}"
    if method == "get" and role in ("carol", "dave") and response.status_code == 302:
        # A desk page with a portal twin hands customers over (the same for any key, so it
        # tells nothing); the portal's answer is what is judged.
        assert response["Location"].startswith("/portal/"), f"{what} as {role} went elsewhere"
        response = request(w, role, "get", response["Location"])

    assert response.status_code < 500, f"{what} as {role}: {response.status_code}"
    if not allowed:
        refused = {403, 404} | ({405} if method == "get" and is_write(route) else set())
        if method == "post" and owner.kind not in ("org", "internal"):
            # A form its action refuses goes back with a message; another organization's
            # object, though, must not even exist for the role (404 above).
            refused.add(302)
        assert response.status_code in refused, (
            f"{what} as {role} must be refused (the {owner.kind} object of "
            f"{owner.slug or owner.email or 'someone else'}), got {response.status_code}"
        )
        if before is not None:
            changed = changed_tables(before, database_state())
            assert not changed, f"refused {what} as {role} still changed {', '.join(changed)}"
    else:
        assert response.status_code in expected_ok(role, route, method), (
            f"control: {role} may see {what}, got {response.status_code}"
        )
    assert_no_leak(w, role, response, what)


# --- 2. pages without an object: lists, searches, forms --------------------------------------
def _list_cases():
    for route in pages():
        if not route.params:
            for role in SIGNED_IN:
                yield pytest.param(route, role, id=f"{route.id}|{role}")


@pytest.mark.parametrize(("route", "role"), list(_list_cases()))
def test_page_never_lists_foreign_objects(w: World, route: surface.Route, role: str):
    foreign = w.foreign(role)
    probes = [
        {},
        {"queue": "all", "show": "all"},
        {"q": foreign.slug},
        {"organization": foreign.org.slug},
        {"requester": foreign.customer.email},
        {"title": f"{foreign.slug} boiler explodes 7731"},  # duplicate suggestions
    ]
    for query in probes:
        path = f"/{route.route}" + (f"?{urlencode(query)}" if query else "")
        response = request(w, role, "get", path)
        assert response.status_code < 500, f"GET {path} as {role}: {response.status_code}"
        if not query:
            assert response.status_code in expected_ok(role, route, "get"), (
                f"control: GET {path} as {role}: {response.status_code}"
            )
        assert_no_leak(w, role, response, f"GET {path}")


def _reference_cases():
    for route in pages():
        for name in FORM_REFERENCES.get(route.name, {}):
            for role in TENANT_BOUND:
                yield pytest.param(route, name, role, id=f"{route.id}|{name}|{role}")


def test_every_form_reference_is_on_a_page():
    names = {r.name for r in pages()}
    assert set(FORM_REFERENCES) <= names, set(FORM_REFERENCES) - names


@pytest.mark.parametrize(("route", "field", "role"), list(_reference_cases()))
def test_foreign_object_in_form(w: World, route: surface.Route, field: str, role: str):
    """Posting the role's own form with the foreign organization's object in `field` writes
    nothing; with the role's own object there (a control, rolled back) it does, where the
    page is the role's (the portal for customers, the desk for agents)."""
    home, foreign = w.home(role), w.foreign(role)
    path, _owner = route.path(w, home)
    own = form(w, home, route)

    with transaction.atomic():
        before = database_state()
        request(w, role, "post", path, own)
        control_changed = bool(changed_tables(before, database_state()))
        transaction.set_rollback(True)
    mine = route.name.startswith("portal:") == (role in ("carol", "dave"))
    if mine:
        assert control_changed, f"control: {role} posting {path} with own {field} changed nothing"

    data = {**own, field: FORM_REFERENCES[route.name][field](w, foreign)}
    before = database_state()
    response = request(w, role, "post", path, data)
    what = f"POST {path} with {field}={data[field]}"
    assert response.status_code < 500, f"{what} as {role}: {response.status_code}"
    changed = changed_tables(before, database_state())
    assert not changed, f"{what} as {role} changed {', '.join(changed)}"
    assert_no_leak(w, role, response, what)


# --- 3. nobody signed in ----------------------------------------------------------------------
def _anonymous_cases():
    for route in pages():
        for method in ("get", "post") if is_write(route) else ("get",):
            yield pytest.param(route, method, id=f"{route.id}|{method}")


@pytest.mark.parametrize(("route", "method"), list(_anonymous_cases()))
def test_anonymous_goes_to_login(w: World, route: surface.Route, method: str):
    side = w.foreign("anonymous")
    path, _owner = route.path(w, side)
    before = database_state()
    response = request(w, "anonymous", method, path, form(w, side, route))
    assert response.status_code == 302, f"{method.upper()} {path}: {response.status_code}"
    assert response["Location"].startswith("/login/"), response["Location"]
    assert not changed_tables(before, database_state())
    assert_no_leak(w, "anonymous", response, path)


# --- 4. control: every form posted above does something for someone allowed -------------------
WRITE_PAGES = [r for r in pages() if is_write(r)]


@pytest.mark.parametrize("route", WRITE_PAGES, ids=[r.id for r in WRITE_PAGES])
def test_form_control_changes_data_for_someone_allowed(w: World, route: surface.Route):
    side = w.sides["globex"]
    path, _owner = route.path(w, side)
    role = "dave" if route.name.startswith("portal:") else "root"
    before = database_state()
    response = request(w, role, "post", path, form(w, side, route))
    assert response.status_code < 400, f"control POST {path} as {role}: {response.status_code}"
    assert changed_tables(before, database_state()), (
        f"control POST {path} as {role} changed nothing: fix FORM in "
        "tests/security/test_web_tenancy.py, or list the page in READ_ONLY if it only shows."
    )


# --- 5. the admin site and the API prefix ----------------------------------------------------
ADMIN_PAGES = [
    r
    for r in ROUTES
    if r.route.startswith("admin/")
    and not r.params
    and r.name not in ("admin:login", "admin:logout")  # open to all, by design
]


@pytest.mark.parametrize("route", ADMIN_PAGES, ids=[r.id for r in ADMIN_PAGES])
def test_admin_site_is_for_administrators(w: World, route: surface.Route):
    path = "/" + route.route
    if "^" in path or "$" in path or "(" in path:  # a regex route: admin/<app_label>/ is param
        pytest.skip("regular expression route")
    for role in ROLES:
        if role == "root":
            continue
        response = request(w, role, "get", path)
        assert response.status_code == 302, f"GET {path} as {role}: {response.status_code}"
        assert response["Location"].startswith("/admin/login/"), response["Location"]
        assert_no_leak(w, role, response, path)


def test_admin_site_opens_for_the_administrator(w: World):
    response = request(w, "root", "get", "/admin/")
    assert response.status_code == 200


def test_everything_under_the_api_prefix_is_in_the_schema():
    documented = {f"{op.method} {op.path}" for op in surface.operations()}
    paths = {p.split(" ", 1)[1] for p in documented}
    undocumented = []
    for route in ROUTES:
        if not route.route.startswith("api/v1/"):
            continue
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.route)
        if path not in paths:
            undocumented.append(path)
    assert not undocumented, f"served under /api/v1/ but not in the OpenAPI schema: {undocumented}"
