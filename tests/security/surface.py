"""The attack surface, read from the OpenAPI schema and the URL configuration.

Nothing here lists endpoints. What is listed is how to fill what endpoints take: a path
parameter, a query parameter or a body field by name. A name these tables do not know fails
the suite with a message saying where to add it, so an endpoint added later is covered as soon
as it exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver

from tests.security import (
    world_bugs,
    world_configs,
    world_dashboards,
    world_deployments,
    world_releases,
    world_rules,
    world_scrapes,
    world_series,
)
from tests.security.world import (
    EVERYONE,
    PROVIDER,
    STAFF,
    Owner,
    Side,
    World,
    internal,
    org,
    personal,
)

API_PREFIX = "/api/v1/"
WRITE_METHODS = ("post", "put", "patch", "delete")


class UnknownName(AssertionError):
    pass


# --- path parameters: name -> (value, owner) of a side's object ---------------------------
Resolved = tuple[Any, Owner]


# `{ref}` names a different thing under each collection.
REF_COLLECTIONS: dict[str, Callable[[World, Side], Resolved]] = {
    "organizations": lambda w, s: (s.org.slug, org(s.slug)),
    "teams": lambda w, s: (w.team.slug, STAFF),
    "products": lambda w, s: (w.product.slug, EVERYONE),
}


def _collection(path: str) -> str:
    return path.removeprefix(API_PREFIX).split("/")[0]


def _ref(world: World, side: Side, path: str) -> Resolved:
    if _collection(path) not in REF_COLLECTIONS:
        raise UnknownName(_unknown_ref(path))
    return REF_COLLECTIONS[_collection(path)](world, side)


def _unknown_ref(path: str) -> str:
    return (
        f"{path}: {{ref}} under /{_collection(path)}/ is new. Say what it names in "
        "REF_COLLECTIONS in tests/security/surface.py (its value in the fixture world and "
        "its owner)."
    )


def _unknown_path_param(path: str, name: str) -> str:
    return (
        f"{path}: path parameter {{{name}}} is new. Add it to PATH_PARAMS in "
        "tests/security/surface.py (its value in the fixture world, tests/security/world.py, "
        "and its owner), so the tenant matrix covers the endpoint."
    )


PATH_PARAMS: dict[str, Callable[[World, Side, str], Resolved]] = {
    "key": lambda w, s, p: (s.ticket.key, org(s.slug)),
    "ref": _ref,
    "user_id": lambda w, s, p: (s.customer.pk, org(s.slug)),
    "item_id": lambda w, s, p: (s.ci.pk, org(s.slug)),
    "token_id": lambda w, s, p: (s.token.pk, personal(s.customer.email)),
    "attachment_id": lambda w, s, p: (s.public_attachment.pk, org(s.slug)),
    "email": lambda w, s, p: (s.customer.email, org(s.slug)),
    "calendar_id": lambda w, s, p: (s.calendar.pk, internal(s.slug)),
    "policy_id": lambda w, s, p: (s.policy.pk, internal(s.slug)),
    "day": lambda w, s, p: ("2026-12-24", internal(s.slug)),  # a holiday of the calendar
    "rule_id": lambda w, s, p: (s.rule.pk, internal(s.slug)),
    "slug": lambda w, s, p: (w.schedule.slug, STAFF),
    "schedule_id": lambda w, s, p: (w.schedule.pk, STAFF),
    "override_id": lambda w, s, p: (w.override.pk, STAFF),
    "page_id": lambda w, s, p: (s.page.pk, Owner("paged", email=s.page.user.email)),
    "subscription_id": lambda w, s, p: (s.subscription.pk, internal(s.slug)),
    "delivery_id": lambda w, s, p: (s.delivery.pk, internal(s.slug)),
    "mail_id": lambda w, s, p: (s.held_mail.pk, internal(s.slug)),
    "environment_id": lambda w, s, p: (world_deployments.environment(s.slug).pk, org(s.slug)),
    "deployment_id": lambda w, s, p: (world_deployments.deployment(s.slug).pk, org(s.slug)),
    "repository_id": lambda w, s, p: (w.repository.pk, STAFF),
    # releases in testing are staff's (customers read released versions only)
    "release_id": lambda w, s, p: (world_releases.release().pk, STAFF),
    # a release's bug (under /releases/), else the side's bug: every agent's, and its customer's
    "bug_key": lambda w, s, p: (
        (world_releases.INCLUDED, STAFF)
        if "releases/" in p
        else (world_bugs.bug(s.slug).key, world_bugs.owner(s.slug))
    ),
    "ticket_key": lambda w, s, p: (s.ticket.key, org(s.slug)),
    "bug_attachment_id": lambda w, s, p: (world_bugs.attachment(s.slug).pk, STAFF),
    "change_id": lambda w, s, p: (world_releases.change().pk, STAFF),
    "alert_id": lambda w, s, p: (s.alert.pk, org(s.slug)),
    "source_id": lambda w, s, p: (s.source.pk, org(s.slug)),
    "machine_token_id": lambda w, s, p: (s.machine_token.pk, internal(s.slug)),
    "heartbeat_id": lambda w, s, p: (s.heartbeat.pk, org(s.slug)),
    "series_id": lambda w, s, p: (world_series.series(s.slug).pk, org(s.slug)),
    # configuration documents are staff's (customers see none of them)
    "document_id": lambda w, s, p: (world_configs.document(s.slug).pk, internal(s.slug)),
    "number": lambda w, s, p: (1, internal(s.slug)),
    "pin_id": lambda w, s, p: (world_dashboards.pin(s.slug).pk, org(s.slug)),
    # resuming needs a paused rule
    "threshold_rule_id": lambda w, s, p: (
        world_rules.rule(s.slug, paused=p.endswith("/resume")).pk,
        org(s.slug),
    ),
    "prometheus_source_id": lambda w, s, p: (world_rules.prometheus(s.slug).pk, org(s.slug)),
    # resuming needs a paused scrape job; scraping one now needs an active one
    "scrape_job_id": lambda w, s, p: (
        world_scrapes.job(s.slug, paused=p.endswith("/resume")).pk,
        org(s.slug),
    ),
    # resuming needs a paused probe; running one needs an active one
    "probe_id": lambda w, s, p: (
        (s.paused_probe if p.endswith("/resume") else s.probe).pk,
        org(s.slug),
    ),
}

# More objects to read through the same paths: what the provider shares between customers
# (the major incident with a child of each, the database both customers' items run on) and
# what only staff may see of one's own customer.
EXTRA_TARGETS: dict[str, list[tuple[str, Callable[[World, Side], Resolved]]]] = {
    "key": [("shared", lambda w, s: (w.major_incident.key, org(PROVIDER)))],
    "item_id": [("shared", lambda w, s: (w.shared_ci.pk, org(PROVIDER)))],
    "attachment_id": [
        ("internal", lambda w, s: (s.internal_attachment.pk, internal(s.slug))),
    ],
}


def path_params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def resolve_path(world: World, side: Side, path: str, variant: str = "side") -> tuple[str, Owner]:
    """The concrete path for `side`'s objects and the owner of its first (subject) parameter;
    `variant` names an EXTRA_TARGETS object to put in the first parameter instead."""
    owner: Owner | None = None
    for i, name in enumerate(path_params(path)):
        if name not in PATH_PARAMS:
            raise UnknownName(_unknown_path_param(path, name))
        if i == 0 and variant != "side":
            value, this_owner = dict(EXTRA_TARGETS[name])[variant](world, side)
        else:
            value, this_owner = PATH_PARAMS[name](world, side, path)
        owner = owner or this_owner
        path = path.replace("{" + name + "}", str(value))
    return path, owner or EVERYONE


# --- query parameters ---------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    """`value` fills a required parameter; `probe` names a tenant reference to search by."""

    value: Any = None
    probe: str | None = None


QUERY_PARAMS: dict[str, Query] = {
    "q": Query(probe="word"),
    # duplicate suggestions: a title is required; a foreign title must find nothing foreign
    "title": Query(value="boiler explodes 7731", probe="word"),
    "description": Query(),
    "exclude": Query(),
    "organization": Query(probe="org"),
    "requester": Query(probe="customer"),
    "assignee": Query(probe="customer"),
    "cursor": Query(),
    "limit": Query(),
    "role": Query(),
    "kind": Query(),
    "status": Query(),
    "priority": Query(),
    "queue": Query(),
    "team": Query(),
    "tag": Query(),
    "created_after": Query(),
    "created_before": Query(),
    "order": Query(),
    "product": Query(),
    "start": Query(value="2026-01-05T09:00:00+01:00"),
    "minutes": Query(value=90),
    "at": Query(),
    "open_only": Query(),
    "metric": Query(),
    "paused": Query(),
    "level": Query(),
    "since": Query(),
    "until": Query(),
    "active": Query(),
    "event": Query(),
    "failed": Query(),
    "release": Query(),
    "environment": Query(),
    "bug": Query(),
    "repository": Query(),
    "branch": Query(),
    "severity": Query(),
    "component": Query(),
    "triage": Query(),
    "state": Query(),
    "flapping": Query(),
    "source": Query(),
    "config_item": Query(),
    "regression": Query(),
    # metric series: by metric name, by label (name:value), and a range's end
    "name": Query(),
    "label": Query(),
    "end": Query(),
    # a series' rollup: seconds per point and the statistic (avg, last, p95…)
    "step": Query(),
    "stat": Query(),
    # a configuration diff: from a version to a version or the observed copy
    "old": Query(),
    "new": Query(),
    # an item's impact: which way and how far
    "direction": Query(),
    "depth": Query(),
}

PROBES: dict[str, Callable[[Side], Any]] = {
    "word": lambda s: s.slug,
    "org": lambda s: s.org.slug,
    "customer": lambda s: s.customer.email,
}


def query_params(operation: dict) -> list[dict]:
    params = [p for p in operation.get("parameters", []) if p["in"] == "query"]
    for p in params:
        if p["name"] not in QUERY_PARAMS:
            raise UnknownName(
                f"query parameter '{p['name']}' is new. Add it to QUERY_PARAMS in "
                "tests/security/surface.py: a value if it is required, and probe= if it names "
                "an organization's object (lists are then searched by the foreign one)."
            )
    return params


def required_query(operation: dict) -> dict[str, Any]:
    values = {}
    for p in query_params(operation):
        if p.get("required"):
            value = QUERY_PARAMS[p["name"]].value
            assert value is not None, f"QUERY_PARAMS['{p['name']}'] needs a value (required)."
            values[p["name"]] = value
    return values


def probes(operation: dict, side: Side) -> list[dict[str, Any]]:
    """The foreign side's references, one query per filter that takes one."""
    found = []
    for p in query_params(operation):
        probe = QUERY_PARAMS[p["name"]].probe
        if probe:
            found.append({p["name"]: PROBES[probe](side)})
    return found


# --- body fields --------------------------------------------------------------------------
@dataclass(frozen=True)
class Ref:
    """A field that names another object. `value` is the side's own object (what a valid
    request uses); `foreign` is what an attacker would put there (None: nothing to steal)."""

    value: Callable[[World, Side], Any]
    foreign: Callable[[World, Side], Any] | None = None
    many: bool = False


ORG = Ref(lambda w, s: s.org.slug, lambda w, s: s.org.slug)
CUSTOMER = Ref(lambda w, s: s.customer.email, lambda w, s: s.customer.email)
# An agent who serves only the other customer: valid for nothing of this side's.
AGENT = Ref(lambda w, s: w.users["alice"].email, lambda w, s: s.agent.email)
CI = Ref(lambda w, s: s.ci2.pk, lambda w, s: s.ci2.pk)
TEAM = Ref(lambda w, s: w.team.slug)
PRODUCT = Ref(lambda w, s: w.product.slug)
CALENDAR = Ref(lambda w, s: s.calendar.pk, lambda w, s: s.calendar.pk)


def many(ref: Ref) -> Ref:
    return Ref(ref.value, ref.foreign, many=True)


# name -> value, a Ref, or {schema component: either} when one name means several things.
BODY_FIELDS: dict[str, Any] = {
    "name": {
        "VersionIn": "9.9.9",
        "ConfigDocumentIn": "zz-fresh-7731.conf",
        "ObservedConfigIn": "zz-observed-7731.conf",
        "*": "Zz fresh 7731",
    },
    "slug": "zz-fresh-7731",
    "customers_see_all_tickets": False,
    "email": "fresh-7731@example.test",
    "role": "customer",
    "password": {
        "PrometheusSourceIn": "",
        "PrometheusSourcePatch": "",
        "*": "correct-horse-battery-staple-7731",
    },
    "time_zone": "Europe/Berlin",
    "timezone": "Europe/Berlin",
    "expires_in_days": 30,
    "scope": "read",
    "description": "zz description 7731",
    "released_at": "2026-01-02T03:04:05Z",
    "kind": {
        "ConfigItemIn": "server",
        "RelationIn": "runs_on",
        "TicketIn": "incident",
        "LinkIn": "related",
        "PolicyIn": "incident",
        "ReleaseIn": "patch",
        "ChangeIn": "feature",
        "SourceIn": "alertmanager",
        "ProbeIn": "http",
    },
    "status": {
        "ConfigItemIn": "planned",
        "ConfigItemPatch": "retired",
        "TransitionIn": "pending",
        "DeploymentTransitionIn": "in_progress",
        "BugTransitionIn": "triaged",
        "BugLineIn": "fixed",
        "ReleaseTransitionIn": "planned",
    },
    "attributes": {"rack": "zz-7731"},
    "title": "Zz title 7731",
    "impact": {"MatrixCell": 3, "*": 1},
    "urgency": {"MatrixCell": 3, "*": 1},
    "priority": {
        "TicketIn": 1,
        "TicketPatch": 2,
        "MatrixCell": 4,
        "PolicyIn": 1,
        "RuleIn": 1,
        "BugIn": 2,
        "BugPatch": 2,
        "BugFromTicketIn": 2,
    },
    "priority_reason": "zz override 7731",
    "channel": "api",
    "tags": ["zz-tag-7731"],
    "reason": "zz reason 7731",
    "body": "zz body 7731",
    "is_public": True,
    "file": "upload",
    "country": "DE",
    "subdivision": "BY",
    "year": 2026,
    "hours": {"mon": [["08:00", "16:00"]]},
    "holidays": ["2026-12-24"],
    "always": False,
    "order": 5,
    "active": True,
    "warn_percent": 80,
    "pause_statuses": ["pending"],
    "targets": [{"priority": 1, "metric": "resolution", "minutes": 240}],
    "minutes": 30,
    "metric": "resolution",
    "urgent": False,
    "condition": "unassigned",
    "levels": [{"delay_minutes": 0, "actions": [{"do": "notify", "who": "team_lead"}]}],
    "rotation_start": "2026-01-05",
    "shift_hours": 24,
    "handover": "09:00",
    "ack_minutes": 15,
    "start": "2026-02-01T00:00:00+00:00",
    "end": "2026-02-02T00:00:00+00:00",
    "url": "https://zz-7731.example.test/hook",
    "events": ["ticket.created", "comment.created"],
    "include_internal": True,
    "secret": "zz-secret-7731-0123456789",
    "ticket_created": "digest",
    "public_reply": "digest",
    "status_changed": "off",
    "assigned": "immediate",
    "sla_warning": "digest",
    "sla_breached": "immediate",
    "escalation": "immediate",
    "fix_deployed": "digest",
    "digest_hour": 8,
    "organization_contact": True,
    "language": "en",
    # references
    "organization": ORG,
    "requester": CUSTOMER,
    "user": {"WatcherIn": CUSTOMER, "OverrideIn": AGENT},
    "watchers": many(CUSTOMER),
    # Bugs are product-wide: any agent may work on one, so no foreign agent to refuse there.
    "assignee": {
        "BugIn": Ref(lambda w, s: w.users["alice"].email),
        "BugPatch": Ref(lambda w, s: w.users["alice"].email),
        "BugFromTicketIn": Ref(lambda w, s: w.users["alice"].email),
        "*": AGENT,
    },
    "lead": AGENT,
    "members": many(AGENT),
    "participants": many(AGENT),
    "team": TEAM,
    "affected_ci": CI,
    "config_item": CI,
    "target": {
        "RelationIn": CI,
        "LinkIn": Ref(lambda w, s: s.ticket2.key, lambda w, s: s.ticket2.key),
    },
    "parent": Ref(lambda w, s: w.major_incident.key, lambda w, s: s.ticket.key),
    "ticket": {
        # the side's bug came from its first ticket; the second one is free to link
        "BugTicketIn": Ref(lambda w, s: s.ticket2.key, lambda w, s: s.ticket2.key),
        "*": Ref(lambda w, s: s.ticket.key, lambda w, s: s.ticket.key),
    },
    "product": PRODUCT,
    "version": {"ReleaseIn": "2.4.9", "ObservedConfigIn": None, "*": "2.4.1"},
    "calendar": CALENDAR,
    # deployments
    "release": Ref(lambda w, s: world_deployments.release().pk),
    "environment": Ref(
        lambda w, s: world_deployments.environment(s.slug).pk,
        lambda w, s: world_deployments.environment(s.slug).pk,
    ),
    "scheduled_for": "2026-03-01T22:00:00Z",
    # releases
    "summary": "zz summary 7731",
    "known_issues": "zz known issues 7731",
    "planned_for": "2026-12-01",
    "repository": {"ReleaseIn": None, "ReleasePatch": None},
    "from_tag": "",
    "to_tag": "",
    "override_reason": "zz override 7731",
    "bug": {"ReleaseBugIn": world_releases.FREE},
    "customer_notes": "zz customer notes 7731",
    "internal_notes": "zz internal notes 7731",
    "result": "passed",
    "passed": 12,
    "failed": 0,
    "skipped": 1,
    "started_at": "2026-11-27T06:00:00Z",
    "finished_at": "2026-11-27T06:10:00Z",
    "note": "zz note 7731",
    "provider": "gitea",
    "path": "/srv/git/zz-7731",
    "default_branch": "main",
    "branch_patterns": ["release/*"],
    "webhook_secret": "zz-webhook-secret-7731-0123",
    # bugs
    "severity": {"SeverityIn": "zz-severity-7731", "*": "critical"},
    # monitoring
    "source": Ref(lambda w, s: s.source.pk, lambda w, s: s.source.pk),
    "resolve_incidents": False,
    "reopen_within_minutes": 30,
    "flap_changes": 5,
    "flap_window_minutes": 20,
    "stable_minutes": 10,
    "period_seconds": 7200,
    "grace_seconds": 900,
    "cron": "",
    # probes (an HTTP probe's; host and port are a TCP probe's)
    "method": "HEAD",
    "headers": {"x-zz-probe": "zz 7731"},  # lower case: capitals would read as schema names
    "expected_status": "200-399",
    "keyword": "zz keyword 7731",
    "keyword_absent": True,
    "json_path": "$.status",
    "json_expected": "ok",
    "tls_expiry_days": 21,
    "host": "",
    "port": None,
    "timeout_seconds": 5,
    "interval_seconds": {"ThresholdRuleIn": 120, "ThresholdRulePatch": 120, "*": 45},
    "fail_after": 3,
    "recover_after": 2,
    "steps_to_reproduce": "zz steps 7731",
    "expected_behaviour": "zz expected 7731",
    "actual_behaviour": "zz actual 7731",
    "component": None,
    "affected_versions": ["2.4.1"],
    "target_release": None,
    "original": Ref(lambda w, s: world_bugs.second(s.slug).key),
    "major": 2,
    "minor": 4,
    "planned_version": "2.4.2",
    "fixed_version": "2.4.2",
    "introduced_in": "2.4.1",
    # threshold rules (over the side's series: see world_rules)
    "matchers": [{"label": "route", "op": "=~", "value": "/zz.*"}],
    "window_seconds": 600,
    "aggregation": "max",
    "comparison": "above",
    "warning": 80.0,
    "critical": 95.0,
    "warning_recovery": 70.0,
    "critical_recovery": 90.0,
    "for_seconds": 120,
    "keep_firing_for_seconds": 60,
    "no_data": "alert",
    "no_data_after_seconds": 900,
    # configuration documents (an observed copy is adopted as a new document)
    "text": {"ConfigVersionIn": "zz new text 7731\n", "*": "zz text 7731\n"},
    "message": "zz message 7731",
    "format": {"ConfigDocumentPatch": "ini", "*": None},
    "ignore_rules": [{"kind": "line", "pattern": "^# zz 7731"}],
    "open_ticket_on_drift": False,
    "adopt": True,
    "number": 1,
    # a rule over Sustain's series (metric); the foreign Prometheus source is tried there
    "prometheus": Ref(lambda w, s: None, lambda w, s: world_rules.prometheus(s.slug).pk),
    "expression": "",
    # Prometheus sources (the guard refuses the address at once: nothing waits on it)
    "base_url": "http://127.0.0.1:9/zz-7731",
    "bearer_token": "zz-bearer-7731",
    "username": "",
    # scrape jobs: extra labels on every series
    "labels": {"zz_env": "zz-7731"},
    # metrics (a JSON batch of one series of one point); a dashboard pin's series
    "series": {
        "SamplesIn": [{"name": "zz_metric_7731", "points": [[1765100000, 1.0]]}],
        "DashboardPinIn": Ref(
            lambda w, s: world_series.series(s.slug).pk,
            lambda w, s: world_series.series(s.slug).pk,
        ),
    },
    "on_item": True,
}

# Endpoints that other systems call instead of users: they prove themselves with a signature
# or a shared secret of their own (push webhooks), so the role matrix does not apply to them.
# What holds for every role and for nobody signed in: a call without that proof is refused
# (401 or 403) and writes nothing (test_api_tenancy.test_signed_endpoint_refuses_unsigned_calls);
# the tests named here check the signatures themselves.
SIGNED_ENDPOINTS: dict[str, str] = {
    "POST /api/v1/vcs/repositories/{repository_id}/push": "tests/bugs/vcs/test_webhook.py",
    # machine tokens, not people's: tests/monitoring/test_alertmanager.py
    "POST /api/v1/hooks/alertmanager": "tests/monitoring/test_alertmanager.py",
    "POST /api/v1/metrics/samples": "tests/monitoring/test_series_json.py",
}

# Of those, the ones a machine token signs (monitoring/tokens.py): the suites that check what
# an operation refuses send them with a fresh machine token of the side's organization.
MACHINE_TOKEN_ENDPOINTS = {"POST /api/v1/metrics/samples"}


def _component(schema: dict, components: dict) -> tuple[str, dict]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return name, components[name]
    return schema.get("title", ""), schema


def _field_spec(name: str, component: str) -> Any:
    if name not in BODY_FIELDS:
        raise UnknownName(
            f"body field '{name}' of {component} is new. Add it to BODY_FIELDS in "
            "tests/security/surface.py: a valid value, or a Ref if it names another object "
            "(then the matrix also tries the foreign organization's object there)."
        )
    spec = BODY_FIELDS[name]
    if isinstance(spec, dict) and all(
        (isinstance(k, str) and k[:1].isupper()) or k == "*" for k in spec
    ):
        if component in spec:
            return spec[component]
        if "*" in spec:
            return spec["*"]
        raise UnknownName(
            f"body field '{name}' means something else in {component}. Add {component} to "
            f"BODY_FIELDS['{name}'] in tests/security/surface.py."
        )
    return spec


@dataclass
class Body:
    media: str  # "json" or "multipart"
    component: str
    properties: dict[str, Any]
    required: list[str]
    array: bool = False
    refs: dict[str, Ref] = field(default_factory=dict)


def request_body(operation: dict, components: dict) -> Body | None:
    content = operation.get("requestBody", {}).get("content")
    if not content:
        return None
    media_type, spec = next(iter(content.items()))
    schema, array = spec["schema"], False
    if schema.get("type") == "array":
        schema, array = schema["items"], True
    component, resolved = _component(schema, components)
    body = Body(
        media="multipart" if "multipart" in media_type else "json",
        component=component,
        properties=resolved.get("properties", {}),
        required=resolved.get("required", []),
        array=array,
    )
    for name in body.properties:
        spec = _field_spec(name, component)
        if isinstance(spec, Ref):
            body.refs[name] = spec
    return body


def _value(world: World, side: Side, spec: Any, *, foreign: bool = False) -> Any:
    if isinstance(spec, Ref):
        make = spec.foreign if foreign and spec.foreign else spec.value
        value = make(world, side)
        return [value] if spec.many else value
    if spec == "upload":
        return SimpleUploadedFile("zz-upload-7731.txt", b"zz upload 7731\n", "text/plain")
    return spec


def build_body(
    world: World,
    side: Side,
    body: Body,
    *,
    only_required: bool = False,
    foreign_field: str | None = None,
    foreign_side: Side | None = None,
) -> Any:
    """A valid body for `side`'s objects: every field, or the required ones; with one field
    pointing at `foreign_side`'s object instead."""
    data = {}
    for name in body.properties:
        if only_required and name not in body.required and name != foreign_field:
            continue
        spec = _field_spec(name, body.component)
        if name == foreign_field:
            assert foreign_side is not None
            data[name] = _value(world, foreign_side, spec, foreign=True)
        else:
            data[name] = _value(world, side, spec)
    if body.media == "multipart":
        return {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in data.items()}
    return [data] if body.array else data


def foreign_ref_fields(body: Body) -> list[str]:
    return sorted(name for name, ref in body.refs.items() if ref.foreign is not None)


def unknown_names(operation: Operation, schemas: dict) -> list[str]:
    """What the tables above cannot fill in this operation, each with where to add it."""
    problems = []
    for name in path_params(operation.path):
        if name not in PATH_PARAMS:
            problems.append(_unknown_path_param(operation.path, name))
        elif name == "ref" and _collection(operation.path) not in REF_COLLECTIONS:
            problems.append(_unknown_ref(operation.path))
    for check in (
        lambda: query_params(operation.spec),
        lambda: request_body(operation.spec, schemas),
    ):
        try:
            check()
        except UnknownName as exc:
            problems.append(str(exc))
    return problems


# --- the schema -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict = field(hash=False, compare=False)

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS


def openapi() -> dict:
    from sustain.api import api

    return api.get_openapi_schema()


def operations() -> list[Operation]:
    schema = openapi()
    found = []
    for path, methods in schema["paths"].items():
        assert path.startswith(API_PREFIX), f"{path} is outside {API_PREFIX}"
        for method, spec in methods.items():
            found.append(Operation(method, path, spec))
    return found


def components() -> dict:
    return openapi().get("components", {}).get("schemas", {})


# --- the URL configuration ------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    route: str  # "desk/t/<str:key>"
    name: str  # "desk:ticket"
    callback: Any = field(hash=False, compare=False)

    @property
    def params(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.route)

    @property
    def id(self) -> str:
        return f"/{self.route} ({self.name})"

    def path(self, world: World, side: Side, variant: str = "side") -> tuple[str, Owner]:
        """Like resolve_path, for a URL pattern."""
        path, owner = "/" + self.route, None
        for i, name in enumerate(self.params):
            if name not in PATH_PARAMS:
                raise UnknownName(
                    f"/{self.route}: URL parameter <{name}> is new. Add it to PATH_PARAMS in "
                    "tests/security/surface.py (its value in the fixture world and its owner)."
                )
            if i == 0 and variant != "side":
                value, this_owner = dict(EXTRA_TARGETS[name])[variant](world, side)
            else:
                value, this_owner = PATH_PARAMS[name](world, side, self.route)
            owner = owner or this_owner
            path = re.sub(rf"<(?:\w+:)?{name}>", str(value), path)
        return path, owner or EVERYONE


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield Route(prefix + str(p.pattern), f"{namespace}{p.name or ''}", p.callback)


def routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))
