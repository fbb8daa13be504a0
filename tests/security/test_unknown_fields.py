"""Every write operation with a JSON body refuses a field it does not have, generated from the
OpenAPI schema: an operation added later is covered as soon as it exists.

Each gets a body with its required fields (from surface.BODY_FIELDS) plus `zz_unknown`, sent as
the administrator on the acme side's objects; the answer must be a 422 naming `zz_unknown`, and
nothing is written. Receivers of formats defined elsewhere follow their specification and
ignore unknown fields: they are named in SPEC_RECEIVERS, with the reason.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.security import surface, world_series
from tests.security.world import World, changed_tables, database_state

# Operations whose body is a format someone else defines: unknown fields are ignored there.
SPEC_RECEIVERS = {
    # GitHub, Gitea/Forgejo and GitLab push webhooks (bugs/vcs/payloads.py)
    "POST /api/v1/vcs/repositories/{repository_id}/push": "VCS push webhook",
    # Prometheus Alertmanager's webhook, version 4 (monitoring/alertmanager.py)
    "POST /api/v1/hooks/alertmanager": "Alertmanager webhook",
}

COMPONENTS = surface.components()


def _json_writes() -> list[surface.Operation]:
    found = []
    for op in surface.operations():
        if op.method not in ("post", "put", "patch") or op.id in SPEC_RECEIVERS:
            continue
        body = surface.request_body(op.spec, COMPONENTS)
        if body is not None and body.media == "json":
            found.append(op)
    return found


WRITES = _json_writes()


def test_the_generated_list_is_not_empty() -> None:
    # A change in how the schema is read must not turn the test below into nothing.
    assert len(WRITES) > 40, [op.id for op in WRITES]
    assert all(op.id in {o.id for o in surface.operations()} for op in WRITES)


def test_spec_receivers_still_exist() -> None:
    ids = {op.id for op in surface.operations()}
    assert set(SPEC_RECEIVERS) <= ids


@pytest.mark.parametrize("op", WRITES, ids=[op.id for op in WRITES])
def test_an_unknown_field_is_refused_by_name(op: surface.Operation, w: World) -> None:
    side = w.sides["acme"]
    path, _ = surface.resolve_path(w, side, op.path)
    body = surface.request_body(op.spec, COMPONENTS)
    assert body is not None
    data = surface.build_body(w, side, body, only_required=True)
    if body.array:
        data[0]["zz_unknown"] = 1
    else:
        data["zz_unknown"] = 1
    if op.id in surface.MACHINE_TOKEN_ENDPOINTS:
        client = world_series.machine_client(w, side)
    else:
        client = w.api_client("root")
    before = database_state()
    response = getattr(client, op.method)(path, json.dumps(data), content_type="application/json")
    assert response.status_code == 422, (op.id, response.status_code, response.content[:500])
    fields = [e["field"] for e in response.json()["errors"]]
    assert any(f == "zz_unknown" or f.endswith(".zz_unknown") for f in fields), (op.id, fields)
    assert changed_tables(before, database_state()) == [], op.id


def test_every_body_schema_has_a_name_of_its_own() -> None:
    # Two schemas of one name share one OpenAPI component: the published schema then shows
    # (and generated tests send) the other operation's body, as it did for releasing a held
    # mail (mail's ReleaseIn under releases' ReleaseIn), or the other list's rows (EventOut).
    from ninja import Schema

    import sustain.api  # noqa: F401 (every router, so every schema, is imported)

    def subclasses(cls: type) -> list[type]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    used = set(re.findall(r"#/components/schemas/([^\"]+)", json.dumps(surface.openapi())))
    names: dict[str, list[str]] = {}
    for cls in subclasses(Schema):
        if cls.__module__.startswith("sustain.") and cls.__name__ in used:
            names.setdefault(cls.__name__, []).append(cls.__module__)
    clashes = {name: modules for name, modules in names.items() if len(set(modules)) > 1}
    assert not clashes, clashes
