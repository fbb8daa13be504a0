"""Tenant isolation of the REST API, generated from its OpenAPI schema.

For every operation and every role, against objects of the organization the role does not
serve: reading answers 404 (or 403), writing answers 4xx and changes nothing in the database,
lists and searches never return the foreign objects, and no answer anywhere carries a marker
of something its reader may not see (another customer's rows, internal notes for customers,
other people's tokens). The objects a role may see are read as a control, so a 404 is never
the result of a wrong fixture value, and every write is made once by someone allowed to, so a
refusal is never the result of an invalid body.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.test import Client

from tests.security import surface
from tests.security.world import (
    ROLES,
    TENANT_BOUND,
    Side,
    World,
    body_text,
    changed_tables,
    database_state,
)

ALL_OPERATIONS = surface.operations()
COMPONENTS = surface.components()
# An operation with a name the tables cannot fill fails test_the_matrix_knows_every_name,
# and the rest of the matrix runs without it.
OPERATIONS = [
    op
    for op in ALL_OPERATIONS
    if not surface.unknown_names(op, COMPONENTS) and op.id not in surface.SIGNED_ENDPOINTS
]
SIGNED = [op for op in ALL_OPERATIONS if op.id in surface.SIGNED_ENDPOINTS]
SIGNED_IN = [r for r in ROLES if r != "anonymous"]


@pytest.mark.parametrize("op", ALL_OPERATIONS, ids=[op.id for op in ALL_OPERATIONS])
def test_the_matrix_knows_every_name(op: surface.Operation) -> None:
    problems = surface.unknown_names(op, COMPONENTS)
    assert not problems, "\n".join(problems)


def call(client: Client, op: surface.Operation, path: str, query: dict, data: Any = None) -> Any:
    if op.method in ("get", "delete") or data is None:
        if query:
            path = f"{path}?{urlencode(query)}"
        return getattr(client, op.method)(path)
    if isinstance(data, dict) and any(hasattr(v, "read") for v in data.values()):
        return client.post(path, data)  # multipart
    return getattr(client, op.method)(path, json.dumps(data), content_type="application/json")


def send(world: World, role: str, op: surface.Operation, side: Side, path: str) -> Any:
    """The operation on `side`'s objects with a valid body; the response and the body sent."""
    body = surface.request_body(op.spec, COMPONENTS)
    data = surface.build_body(world, side, body) if body else None
    query = surface.required_query(op.spec)
    if op.method in ("get", "delete"):
        return call(world.api_client(role), op, path, query), data
    if query:
        path = f"{path}?{urlencode(query)}"
    return call(world.api_client(role), op, path, {}, data), data


def assert_no_leak(world: World, role: str, response: Any, what: str, sent: Any = "") -> None:
    """No marker the role may not see, except what the role sent itself (an error that
    repeats the key or e-mail address asked for tells nothing)."""
    request = f"{what} {json.dumps(sent, default=str)}"
    leaks = [
        m for m in world.leaks(role, body_text(response)) if m not in world.leaks(role, request)
    ]
    assert not leaks, f"{what} shows {role} what {role} may not see: {', '.join(leaks)}"


# --- 1. objects in the path ------------------------------------------------------------------
def _path_cases():
    for op in OPERATIONS:
        params = surface.path_params(op.path)
        if not params:
            continue
        for role in SIGNED_IN:
            yield pytest.param(op, role, "foreign", id=f"{op.id}|{role}|foreign")
            if op.is_write:
                continue
            yield pytest.param(op, role, "home", id=f"{op.id}|{role}|home")
            for variant, _ in surface.EXTRA_TARGETS.get(params[0], []):
                yield pytest.param(op, role, variant, id=f"{op.id}|{role}|{variant}")


@pytest.mark.parametrize(("op", "role", "target"), list(_path_cases()))
def test_object_in_path(w: World, op: surface.Operation, role: str, target: str) -> None:
    side = w.foreign(role) if target == "foreign" else w.home(role)
    path, owner = surface.resolve_path(
        w, side, op.path, "side" if target in ("foreign", "home") else target
    )
    allowed = w.sees(role, owner)
    before = database_state() if op.is_write and not allowed else None

    response, sent = send(w, role, op, side, path)
    what = f"{op.method.upper()} {path}"

    assert response.status_code < 500, f"{what} as {role}: {response.status_code}"
    if not allowed:
        assert response.status_code in (403, 404), (
            f"{what} as {role} must be refused (the {owner.kind} object of "
            f"{owner.slug or owner.email or 'someone else'}), got {response.status_code}: "
            f"{body_text(response)[:300]}"
        )
    elif not op.is_write:
        assert response.status_code == 200, (
            f"control: {role} may read {what}, got {response.status_code}: "
            f"{body_text(response)[:300]}"
        )
    if before is not None:
        changed = changed_tables(before, database_state())
        assert not changed, f"refused {what} as {role} still changed {', '.join(changed)}"
    assert_no_leak(w, role, response, what, sent)


# --- 2. lists and searches -------------------------------------------------------------------
def _list_cases():
    for op in OPERATIONS:
        if op.method == "get" and not surface.path_params(op.path):
            for role in SIGNED_IN:
                yield pytest.param(op, role, id=f"{op.id}|{role}")


@pytest.mark.parametrize(("op", "role"), list(_list_cases()))
def test_list_never_shows_foreign_objects(w: World, op: surface.Operation, role: str) -> None:
    required = surface.required_query(op.spec)
    client = w.api_client(role)
    for probe in [{}, *surface.probes(op.spec, w.foreign(role))]:
        query = {**required, **probe}
        response = call(client, op, op.path, query)
        what = f"GET {op.path} {query or ''}"
        # A list may be refused to a role outright (not to the administrator); filtering by a
        # foreign object finds nothing, or is refused as naming nothing.
        expected = (200,) if role == "root" else (200, 403)
        if probe:
            expected = (200, 403, 404, 422)
        assert response.status_code in expected, f"{what} as {role}: {response.status_code}"
        assert_no_leak(w, role, response, what)


# --- 3. foreign objects named in the body ----------------------------------------------------
def _body_cases():
    for op in OPERATIONS:
        body = surface.request_body(op.spec, COMPONENTS) if op.is_write else None
        if body is None:
            continue
        for name in surface.foreign_ref_fields(body):
            for role in TENANT_BOUND:
                yield pytest.param(op, name, role, id=f"{op.id}|{name}|{role}")


def _status_in_savepoint(world: World, role: str, op: surface.Operation, path: str, data) -> int:
    with transaction.atomic():
        response = call(world.api_client(role), op, path, {}, data)
        transaction.set_rollback(True)
    return response.status_code


@pytest.mark.parametrize(("op", "field", "role"), list(_body_cases()))
def test_foreign_object_in_body(w: World, op: surface.Operation, field: str, role: str) -> None:
    """The role's own request, valid with its own object in `field`, is refused with the
    foreign organization's object there, and writes nothing."""
    home, foreign = w.home(role), w.foreign(role)
    body = surface.request_body(op.spec, COMPONENTS)
    assert body is not None
    path, _owner = surface.resolve_path(w, home, op.path)
    query = surface.required_query(op.spec)
    if query:
        path = f"{path}?{urlencode(query)}"

    # Prefer a body that the role may send with its own object (a control, rolled back): then
    # a refusal below can only come from the foreign object.
    chosen = None
    for only_required in (False, True):
        own = surface.build_body(w, home, body, only_required=only_required)
        if _status_in_savepoint(w, role, op, path, own) < 300:
            chosen = only_required
            break
    data = surface.build_body(
        w,
        home,
        body,
        only_required=bool(chosen),
        foreign_field=field,
        foreign_side=foreign,
    )

    before = database_state()
    response = call(w.api_client(role), op, path, {}, data)
    what = (
        f"{op.method.upper()} {path} with {field}={data[field] if isinstance(data, dict) else data}"
    )
    assert 400 <= response.status_code < 500, f"{what} as {role}: {response.status_code}"
    changed = changed_tables(before, database_state())
    assert not changed, f"refused {what} as {role} still changed {', '.join(changed)}"
    assert_no_leak(w, role, response, what, data)


# --- 4. nobody signed in ---------------------------------------------------------------------
@pytest.mark.parametrize("op", OPERATIONS, ids=[op.id for op in OPERATIONS])
def test_anonymous_is_refused(w: World, op: surface.Operation) -> None:
    side = w.foreign("anonymous")
    path, _owner = surface.resolve_path(w, side, op.path)
    before = database_state()
    response, sent = send(w, "anonymous", op, side, path)
    assert response.status_code == 401, f"{op.id} without a token: {response.status_code}"
    assert not changed_tables(before, database_state())
    assert_no_leak(w, "anonymous", response, path, sent)


# --- 5. control: every write body used above is valid ----------------------------------------
WRITES = [op for op in OPERATIONS if op.is_write]


@pytest.mark.parametrize("op", WRITES, ids=[op.id for op in WRITES])
def test_write_control_succeeds_for_someone_allowed(w: World, op: surface.Operation) -> None:
    """The same request the matrix sends, made by the object's owner or an administrator,
    succeeds and changes the database: the refusals above are about who asks, not what."""
    side = w.sides["globex"]
    path, owner = surface.resolve_path(w, side, op.path)
    role = next(
        (r for r, u in w.users.items() if owner.kind == "personal" and u.email == owner.email),
        "root",
    )
    before = database_state()
    response, _sent = send(w, role, op, side, path)
    assert 200 <= response.status_code < 300, (
        f"control {op.id} as {role}: {response.status_code} {body_text(response)[:400]}"
    )
    assert changed_tables(before, database_state()), f"control {op.id} as {role} changed nothing"


# --- 6. endpoints proven by a signature instead of a user ------------------------------------
def test_every_signed_endpoint_exists() -> None:
    ids = {op.id for op in ALL_OPERATIONS}
    assert set(surface.SIGNED_ENDPOINTS) <= ids, set(surface.SIGNED_ENDPOINTS) - ids


@pytest.mark.parametrize(
    ("op", "role"), [pytest.param(op, r, id=f"{op.id}|{r}") for op in SIGNED for r in ROLES]
)
def test_signed_endpoint_refuses_unsigned_calls(w: World, op: surface.Operation, role: str) -> None:
    """A user's token or session is no signature: refused for everyone, nothing written."""
    path, _owner = surface.resolve_path(w, w.home(role), op.path)
    body = json.dumps({"ref": "refs/heads/main", "commits": []})
    before = database_state()
    for client in (w.api_client(role), w.web_client(role)):
        response = getattr(client, op.method)(path, body, content_type="application/json")
        assert response.status_code in (401, 403), f"{op.id} as {role}: {response.status_code}"
        assert_no_leak(w, role, response, path)
    assert not changed_tables(before, database_state())
