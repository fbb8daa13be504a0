"""Every paginated list of the REST API costs the same number of queries for 3 rows as for 20
(no query per row, N+1), and no more than a ceiling, generated from the OpenAPI schema.

A list is paginated when its answer is a page (`results` and `next`) and it takes `cursor` and
`limit`; the two must agree. What is listed here is how to add rows of the kind a list shows
(ROWS, by path): a paginated list without an entry fails the suite, naming where to add it, so a
list added later is counted as soon as it exists. Read on the acme side's objects, in the
fixture world of the security suite, by the administrator (who sees every row), the agent who
serves only Acme and Acme's customer (whose lists are scoped to what they may see).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sustain.accounts import actions as accounts
from sustain.accounts.models import Role
from sustain.bugs import actions as bugs
from sustain.bugs.vcs import repositories as vcs_repositories
from sustain.bugs.vcs.actions import CommitData, record_commits
from sustain.cmdb import actions as cmdb
from sustain.cmdb.models import ConfigItem
from sustain.desk import actions as desk
from sustain.hooks import actions as hooks
from sustain.hooks.models import Delivery
from sustain.mail.models import InboundMail
from sustain.monitoring import actions as monitoring
from sustain.monitoring import dashboards, prometheus_sources, rules
from sustain.monitoring.alerts import Signal
from sustain.monitoring.heartbeats import Call
from sustain.monitoring.models import ProbeResult, RuleState, Series
from sustain.monitoring.series import Incoming, ingest
from sustain.releases import actions as releases
from sustain.releases.models import Deployment
from sustain.sla import actions as sla
from sustain.sla.models import Clock
from tests.security import (
    surface,
    world_bugs,
    world_deployments,
    world_releases,
    world_rules,
    world_series,
)
from tests.security.world import Side, World, body_text

FEW, MANY = 3, 20
# The most any list needs today is 12 (the bugs, with their relations, for a scoped agent).
CEILING = 15
_n = itertools.count(1)


# --- rows of each listed kind: (world, side, how many) ------------------------------------------
def _tickets(w: World, s: Side, n: int) -> list[Any]:
    """Tickets showing every relation a row shows: requester, team, assignee, item, parent,
    tags, clocks."""
    made, members = [], list(w.team.members.order_by("id"))
    for i in range(n):
        made.append(
            desk.open_ticket(
                w.users["alice"],
                organization=s.org,
                requester=s.customer,
                title=f"Counted ticket {next(_n)}",
                affected_ci=s.ci,
                team=w.team,
                assignee=members[i % len(members)],
                tags=[f"tag{i % 3}", "counted"],
                parent=w.major_incident,
                impact=2,
                urgency=2,
            )
        )
    return made


def _ticket_comments(w: World, s: Side, n: int) -> None:
    for i in range(n):
        desk.add_comment(
            w.users["alice"] if i % 2 else s.customer,
            s.ticket,
            f"counted comment {next(_n)}",
            is_public=bool(i % 2 == 0 or i % 3),
            uploads=[(f"counted-{i}.txt", b"counted")] if i % 2 else (),
        )


def _breaches(w: World, s: Side, n: int) -> None:
    now = timezone.now()
    for ticket in _tickets(w, s, n):
        Clock.objects.update_or_create(
            ticket=ticket,
            metric="first_response",
            defaults={
                "policy": s.policy,
                "state": Clock.State.BREACHED,
                "target_seconds": 60,
                "elapsed_seconds": 120,
                "due_at": now - timedelta(minutes=1),
                "breached_at": now,
            },
        )


def _users(w: World, s: Side, n: int) -> None:
    for i in range(n):
        k = next(_n)
        accounts.create_user(
            w.users["root"],
            email=f"counted-{k}@example.test",
            name=f"Counted {k}",
            organization=s.org if i % 2 else w.users["alice"].organization,
            role=Role.CUSTOMER if i % 2 else Role.AGENT,
            serves_all_organizations=bool(i % 3),
            served_organizations=[s.org] if i % 3 == 0 else None,
        )


def _teams(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        accounts.create_team(
            w.users["root"],
            name=f"Counted team {next(_n)}",
            lead=w.users["mia"],
            members=[w.users["alice"], w.users["mia"]],
        )


def _products(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        product = cmdb.create_product(w.users["root"], name=f"Counted product {next(_n)}")
        cmdb.add_version(w.users["root"], product, name="1.0.0")
        cmdb.add_component(w.users["root"], product, name="Core")


def _config_items(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        item = cmdb.create_config_item(
            w.users["root"],
            organization=s.org,
            name=f"counted-item-{next(_n)}",
            kind=ConfigItem.Kind.ENVIRONMENT,
            product=w.product,
            version=world_deployments.environment(s.slug).version,
        )
        cmdb.relate(w.users["root"], item, s.ci, "depends_on")


def _environments(w: World, s: Side, n: int) -> None:
    """Environments running a version the side's bug affects."""
    bug = world_bugs.bug(s.slug)
    version = world_deployments.environment(s.slug).version
    bug.affected_versions.add(version)
    for _ in range(n):
        cmdb.create_config_item(
            w.users["root"],
            organization=s.org,
            name=f"counted-env-{next(_n)}",
            kind=ConfigItem.Kind.ENVIRONMENT,
            product=w.product,
            version=version,
        )


def _calendars(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        sla.create_calendar(
            w.users["root"],
            name=f"Counted hours {next(_n)}",
            hours={"mon": [["09:00", "17:00"]]},
            holidays=["2026-12-24"],
            organization=s.org,
        )


def _policies(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        sla.create_policy(
            w.users["root"],
            name=f"Counted policy {next(_n)}",
            calendar=s.calendar,
            organization=s.org,
            targets=[
                {"priority": 1, "metric": "resolution", "minutes": 240},
                {"priority": 2, "metric": "first_response", "minutes": 60},
            ],
        )


def _webhooks(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        k = next(_n)
        hooks.create_subscription(
            w.users["root"],
            name=f"Counted hook {k}",
            url=f"https://counted-{k}.example.test/hook",
            organization=s.org,
        )


def _deliveries(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        Delivery.objects.create(
            subscription=s.subscription,
            delivery_id=f"00000000-0000-0000-0001-{next(_n):012d}",
            event="ticket.created",
            request_body="{}",
            status_code=200,
        )


def _inbound_mail(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        k = next(_n)
        InboundMail.objects.create(
            message_id=f"counted-{k}@test",
            sender=s.customer.email,
            subject=f"Counted mail {k}",
            status=InboundMail.Status.HELD,
            reason="counted",
            text="counted",
            organization=s.org,
            ticket=s.ticket,
        )


def _bugs(w: World, s: Side, n: int) -> list[Any]:
    component = w.product.components.first() or cmdb.add_component(
        w.users["root"], w.product, name="Counted component"
    )
    members = list(w.team.members.order_by("id"))
    return [
        bugs.create_bug(
            w.users["alice"],
            title=f"Counted defect {next(_n)}",
            product=w.product,
            component=component,
            team=w.team,
            assignee=members[i % len(members)],
            affected_versions=[world_deployments.environment(s.slug).version],
        )
        for i in range(n)
    ]


def _bug_comments(w: World, s: Side, n: int) -> None:
    for i in range(n):
        bugs.add_comment(
            w.users["alice"],
            world_bugs.bug(s.slug),
            f"counted bug comment {next(_n)}",
            is_public=bool(i % 2),
            uploads=[(f"counted-{i}.txt", b"counted")] if i % 2 else (),
        )


def _repositories(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        k = next(_n)
        vcs_repositories.create_repository(
            w.users["root"],
            name=f"counted-{k}",
            product=w.product,
            webhook_secret=f"zz-counted-webhook-secret-{k:06d}",
        )


def _commits(w: World, s: Side, n: int) -> None:
    assert w.repository is not None
    bug = world_bugs.bug(s.slug)
    commits = [
        CommitData(sha=f"{next(_n):040x}", message=f"Refs {bug.key}: counted", author_name="A")
        for _ in range(n)
    ]
    record_commits(w.users["root"], w.repository, branch="main", commits=commits)


def _releases(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        releases.create_release(
            w.users["root"],
            product=w.product,
            version=f"2.4.{100 + next(_n)}",
            kind="patch",
            summary="counted",
        )


def _release_bugs(w: World, s: Side, n: int) -> None:
    release = world_releases.release()
    for bug in _bugs(w, s, n):
        releases.add_bug(w.users["root"], release, bug)


def _test_runs(w: World, s: Side, n: int) -> None:
    for i in range(n):
        releases.add_test_run(
            w.users["root"],
            world_releases.release(),
            result="passed" if i % 2 else "failed",
            name=f"counted {next(_n)}",
            passed=3,
        )


def _release_events(w: World, s: Side, n: int) -> None:
    release = world_releases.release()
    for _ in range(n):
        releases.update_release(w.users["root"], release, summary=f"counted {next(_n)}")


def _deployments(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        environment = cmdb.create_config_item(
            w.users["root"],
            organization=s.org,
            name=f"counted-deploy-env-{next(_n)}",
            kind=ConfigItem.Kind.ENVIRONMENT,
            product=w.product,
            version=world_deployments.environment(s.slug).version,
        )
        Deployment.objects.create(
            release=world_deployments.release(),
            environment=environment,
            organization=s.org,
            previous_version=environment.version,
            created_by=w.users["root"],
        )


def _alerts(w: World, s: Side, n: int) -> None:
    """Alerts that opened their incident (the row shows its ticket), on the side's item."""
    for _ in range(n):
        number = next(_n)
        monitoring.receive(
            s.source,
            Signal(
                fingerprint=f"counted-{number}",
                state="firing",
                name=f"Counted{number}",
                starts_at=timezone.now(),
                config_item=s.ci,
                labels={"alertname": f"Counted{number}"},
            ),
        )


def _sources(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        monitoring.create_source(w.users["root"], s.org, name=f"Counted source {next(_n)}")


def _machine_tokens(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        monitoring.create_machine_token(
            w.users["root"], s.org, name=f"counted {next(_n)}", source=s.source
        )


def _heartbeats(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        monitoring.create_heartbeat(w.users["root"], s.org, name=f"Counted beat {next(_n)}")


def _pings(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        monitoring.ping(s.heartbeat.uuid, Call(kind="log", body=f"counted {next(_n)}"))


def _series(w: World, s: Side, n: int) -> None:
    token, _ = monitoring.create_machine_token(w.users["root"], s.org, name=f"counted {next(_n)}")
    number = next(_n)
    ingest(
        token,
        [
            Incoming(
                where=f"series.{i}",
                name=f"counted_{number}",
                labels={"i": str(i)},
                kind="gauge",
                config_item=s.ci,
                points=[(1_765_100_000_000, float(i))],
            )
            for i in range(n)
        ],
    )


def _pins(w: World, s: Side, n: int) -> None:
    series = world_series.series(s.slug)
    for i in range(n):
        dashboards.pin_series(w.users["root"], series, on_item=i % 2 == 1, title=f"pin {i}")


def _probes(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        monitoring.create_probe(
            w.users["root"], s.org, name=f"Counted probe {next(_n)}", url="https://p.example.test/"
        )


def _scrape_jobs(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        monitoring.create_scrape_job(
            w.users["root"], s.org, name=f"Counted scrape {next(_n)}", url="https://m.example.test/"
        )


def _threshold_rules(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        rules.create_rule(
            w.users["root"], s.org, name=f"Counted rule {next(_n)}", metric="m", critical=1.0
        )


def _rule_states(w: World, s: Side, n: int) -> None:
    rule = world_rules.rule(s.slug)
    made = [
        Series(
            organization=s.org,
            name="counted",
            labels={"n": str(i)},
            key=f"counted-{next(_n)}",
            kind="gauge",
        )
        for i in range(n)
    ]
    Series.objects.bulk_create(made)
    RuleState.objects.bulk_create(RuleState(rule=rule, series=series) for series in made)


def _prometheus_sources(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        prometheus_sources.create_source(
            w.users["root"], s.org, name=f"Counted prom {next(_n)}", base_url="https://p.example"
        )


def _probe_results(w: World, s: Side, n: int) -> None:
    ProbeResult.objects.bulk_create(
        ProbeResult(probe=s.probe, ok=True, latency_ms=next(_n)) for _ in range(n)
    )


def _organizations(w: World, s: Side, n: int) -> None:
    for _ in range(n):
        accounts.create_organization(w.users["root"], name=f"Counted org {next(_n)}")


ROWS: dict[str, Callable[[World, Side, int], object]] = {
    "/api/v1/organizations": _organizations,
    "/api/v1/users": _users,
    "/api/v1/teams": _teams,
    "/api/v1/products": _products,
    "/api/v1/config-items": _config_items,
    "/api/v1/tickets": _tickets,
    "/api/v1/tickets/{key}/comments": _ticket_comments,
    # every comment is an event of its ticket
    "/api/v1/tickets/{key}/events": _ticket_comments,
    "/api/v1/sla/calendars": _calendars,
    "/api/v1/sla/policies": _policies,
    "/api/v1/reports/sla/breaches": _breaches,
    "/api/v1/webhooks": _webhooks,
    "/api/v1/webhooks/{subscription_id}/deliveries": _deliveries,
    "/api/v1/mail/inbound": _inbound_mail,
    "/api/v1/bugs": _bugs,
    "/api/v1/bugs/{bug_key}/comments": _bug_comments,
    "/api/v1/bugs/{bug_key}/timeline": _bug_comments,
    "/api/v1/vcs/repositories": _repositories,
    "/api/v1/vcs/commits": _commits,
    "/api/v1/vcs/repositories/{repository_id}/commits": _commits,
    "/api/v1/releases": _releases,
    "/api/v1/releases/{release_id}/bugs": _release_bugs,
    "/api/v1/releases/{release_id}/test-runs": _test_runs,
    "/api/v1/releases/{release_id}/events": _release_events,
    "/api/v1/deployments": _deployments,
    "/api/v1/bugs/{bug_key}/affected-environments": _environments,
    "/api/v1/monitoring/alerts": _alerts,
    "/api/v1/monitoring/sources": _sources,
    "/api/v1/monitoring/machine-tokens": _machine_tokens,
    "/api/v1/monitoring/heartbeats": _heartbeats,
    "/api/v1/monitoring/heartbeats/{heartbeat_id}/pings": _pings,
    "/api/v1/metrics/series": _series,
    "/api/v1/metrics/pins": _pins,
    "/api/v1/monitoring/probes": _probes,
    "/api/v1/monitoring/probes/{probe_id}/results": _probe_results,
    "/api/v1/monitoring/scrape-jobs": _scrape_jobs,
    "/api/v1/monitoring/rules": _threshold_rules,
    "/api/v1/monitoring/rules/{threshold_rule_id}/states": _rule_states,
    "/api/v1/monitoring/prometheus-sources": _prometheus_sources,
}


# --- which lists are paginated --------------------------------------------------------------
COMPONENTS = surface.components()


def _answers_a_page(op: surface.Operation) -> bool:
    content = op.spec.get("responses", {}).get(200, {}).get("content", {})
    ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
    properties = COMPONENTS.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})
    return {"results", "next"} <= set(properties)


def _takes_a_cursor(op: surface.Operation) -> bool:
    names = {p["name"] for p in op.spec.get("parameters", []) if p["in"] == "query"}
    return {"cursor", "limit"} <= names


GETS = [op for op in surface.operations() if op.method == "get"]
PAGINATED = [op for op in GETS if _answers_a_page(op) or _takes_a_cursor(op)]


def test_a_page_and_its_cursor_go_together() -> None:
    odd = [op.id for op in PAGINATED if _answers_a_page(op) != _takes_a_cursor(op)]
    assert not odd, f"a page without cursor and limit, or the reverse: {odd}"
    assert len(PAGINATED) >= 25, [op.id for op in PAGINATED]


def test_every_paginated_list_has_rows_to_add() -> None:
    missing = [op.path for op in PAGINATED if op.path not in ROWS]
    assert not missing, (
        f"{missing}: a paginated list is new. Say how to add rows of the kind it lists in ROWS "
        "in tests/security/test_list_query_counts.py, so its query count is checked."
    )
    stale = set(ROWS) - {op.path for op in PAGINATED}
    assert not stale, f"ROWS names lists that are gone or no longer paginated: {stale}"


# Where a role sees none of the rows ROWS adds (another organization's, or the team's own), the
# page must not grow either; it may refuse the list (403, 404) instead. The rest grow.
SEES_NONE: dict[str, set[str]] = {
    "root": set(),
    # the agent who serves only Acme: new organizations are not his
    "sam": {"/api/v1/organizations"},
    # Acme's customer: new organizations, the team's configuration, bugs not linked to her
    # tickets and a release still in testing are not hers
    "carol": {
        "/api/v1/monitoring/machine-tokens",  # staff make and see them
        "/api/v1/organizations",
        "/api/v1/teams",
        "/api/v1/sla/calendars",
        "/api/v1/sla/policies",
        "/api/v1/webhooks",
        "/api/v1/webhooks/{subscription_id}/deliveries",
        "/api/v1/mail/inbound",
        "/api/v1/bugs",
        "/api/v1/vcs/repositories",
        "/api/v1/vcs/commits",
        "/api/v1/vcs/repositories/{repository_id}/commits",
        "/api/v1/releases",
        "/api/v1/releases/{release_id}/bugs",
        "/api/v1/releases/{release_id}/test-runs",
        "/api/v1/releases/{release_id}/events",
    },
}


def _page(w: World, op: surface.Operation, path: str, role: str) -> tuple[int, int | None]:
    """Queries spent on the first page, and the rows on it (None: the list is refused)."""
    client = w.api_client(role)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, surface.required_query(op.spec))
    if response.status_code in (403, 404) and op.path in SEES_NONE[role]:
        return len(queries), None
    assert response.status_code == 200, (
        f"{op.id} as {role}: {response.status_code} {body_text(response)[:300]}"
    )
    return len(queries), len(response.json()["results"])


def test_every_role_names_only_paginated_lists() -> None:
    stale = set().union(*SEES_NONE.values()) - {op.path for op in PAGINATED}
    assert not stale, f"SEES_NONE names lists that are gone or no longer paginated: {stale}"


@pytest.mark.parametrize("role", list(SEES_NONE))
@pytest.mark.parametrize("op", [op for op in PAGINATED if op.path in ROWS], ids=lambda op: op.id)
def test_a_page_costs_the_same_for_few_and_many_rows(
    w: World, op: surface.Operation, role: str
) -> None:
    side = w.sides["acme"]
    path, _owner = surface.resolve_path(w, side, op.path)
    _page(w, op, path, role)  # the token's first use of the minute records last_used_at
    ROWS[op.path](w, side, FEW)
    few, few_rows = _page(w, op, path, role)
    ROWS[op.path](w, side, MANY - FEW)
    many, many_rows = _page(w, op, path, role)
    what = f"{op.id} as {role}"
    if op.path in SEES_NONE[role]:
        assert many_rows == few_rows, f"{what}: sees rows SEES_NONE says it does not"
    elif role == "root":  # sees every row
        assert many_rows is not None and few_rows is not None
        assert many_rows >= few_rows + MANY - FEW, (
            f"{what}: ROWS added {MANY - FEW} rows but the page grew from {few_rows} to {many_rows}"
        )
    else:
        assert many_rows is not None and few_rows is not None
        assert many_rows > few_rows, f"{what}: sees none of the rows added (add it to SEES_NONE?)"
    assert many == few, f"{what}: {few} queries for {few_rows} rows, {many} for {many_rows}"
    assert few <= CEILING, f"{what}: {few} queries for one page (ceiling {CEILING})"
