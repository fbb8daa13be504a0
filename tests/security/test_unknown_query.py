"""Every operation refuses a query parameter it does not declare, and every operation without a
body refuses one, generated from the OpenAPI schema (an operation added later is covered).

Sent as the administrator on the acme side's objects; the answer must be a 422 naming the
parameter (or field) in the API's error format, and nothing is written. Receivers of formats
defined elsewhere are named in sustain.core.strict_params.LENIENT.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from sustain.core.strict_params import LENIENT
from tests.security import surface, world_series
from tests.security.world import World, changed_tables, database_state

# The same receivers, by operation id (LENIENT names their view functions).
SPEC_RECEIVERS = {
    "POST /api/v1/vcs/repositories/{repository_id}/push": "VCS push webhook",
    "POST /api/v1/hooks/alertmanager": "Alertmanager webhook",
}
COMPONENTS = surface.components()
OPERATIONS = [op for op in surface.operations() if op.id not in SPEC_RECEIVERS]
BODYLESS_WRITES = [
    op for op in OPERATIONS if op.is_write and surface.request_body(op.spec, COMPONENTS) is None
]


def _client(w: World, op: surface.Operation):
    if op.id in surface.MACHINE_TOKEN_ENDPOINTS:
        return world_series.machine_client(w, w.sides["acme"])
    return w.api_client("root")


def _send(
    w: World, op: surface.Operation, path: str, query: dict, body: str | None = None, client=None
):
    client = client or _client(w, op)
    url = f"{path}?{urlencode(query)}" if query else path
    if body is None:
        return getattr(client, op.method)(url)
    return getattr(client, op.method)(url, body, content_type="application/json")


def _fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def test_the_generated_lists_are_not_empty() -> None:
    assert len(OPERATIONS) > 100, len(OPERATIONS)
    assert len(BODYLESS_WRITES) >= 15, [op.id for op in BODYLESS_WRITES]
    assert len(LENIENT) == len(SPEC_RECEIVERS)
    assert set(SPEC_RECEIVERS) <= {op.id for op in surface.operations()}


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.id for op in OPERATIONS])
def test_an_unknown_query_parameter_is_refused_by_name(op: surface.Operation, w: World) -> None:
    side = w.sides["acme"]
    path, _ = surface.resolve_path(w, side, op.path)
    query = {**surface.required_query(op.spec), "zz_unknown": "1"}
    client = _client(w, op)
    before = database_state()
    response = _send(w, op, path, query, client=client)
    assert response.status_code == 422, (op.id, response.status_code, response.content[:500])
    assert "zz_unknown" in _fields(response), (op.id, response.json())
    assert "zz_unknown" in response.json()["detail"]
    assert changed_tables(before, database_state()) == [], op.id


@pytest.mark.parametrize("op", BODYLESS_WRITES, ids=[op.id for op in BODYLESS_WRITES])
@pytest.mark.parametrize(
    ("body", "field"),
    [('{"zz_unknown": 1}', "zz_unknown"), ("[]", "body"), ('"x"', "body"), ("not json", "body")],
)
def test_a_body_sent_to_an_operation_without_one_is_refused(
    op: surface.Operation, body: str, field: str, w: World
) -> None:
    path, _ = surface.resolve_path(w, w.sides["acme"], op.path)
    before = database_state()
    response = _send(w, op, path, surface.required_query(op.spec), body)
    assert response.status_code == 422, (op.id, response.status_code, response.content[:500])
    assert _fields(response) == [field], (op.id, response.json())
    assert changed_tables(before, database_state()) == [], op.id


# --- the cases the review found ---------------------------------------------------------------
def _op(op_id: str) -> surface.Operation:
    return next(op for op in surface.operations() if op.id == op_id)


def test_a_comment_with_is_public_in_the_query_is_not_posted(w: World) -> None:
    op = _op("POST /api/v1/tickets/{key}/comments")
    path, _ = surface.resolve_path(w, w.sides["acme"], op.path)
    before = database_state()
    response = _send(w, op, path, {"is_public": "false"}, json.dumps({"body": "x"}))
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == "is_public"
    assert changed_tables(before, database_state()) == []


@pytest.mark.parametrize("query", [{"statuss": "open"}, {"colour": "red"}])
def test_a_misspelt_filter_is_refused_not_ignored(query: dict, w: World) -> None:
    response = w.api_client("root").get("/api/v1/tickets", query)
    assert response.status_code == 422, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert [e["field"] for e in body["errors"]] == list(query)
    assert all(e["message"] for e in body["errors"])


def test_declared_parameters_and_the_next_page_still_work(w: World) -> None:
    client = w.api_client("root")
    response = client.get("/api/v1/tickets", {"status": "open", "limit": 1})
    assert response.status_code == 200, response.content
    following = response.json()["next"]
    if following:  # the next link carries only declared parameters (cursor, limit, status)
        assert client.get(following).status_code == 200


def test_a_patch_with_a_query_field_is_refused(w: World) -> None:
    op = _op("PATCH /api/v1/tickets/{key}")
    path, _ = surface.resolve_path(w, w.sides["acme"], op.path)
    before = database_state()
    response = _send(w, op, path, {"title": "zzz"}, "{}")
    assert response.status_code == 422, response.content
    assert _fields(response) == ["title"]
    assert changed_tables(before, database_state()) == []


@pytest.mark.parametrize("body", ['{"foo": 1}', "[]"])
def test_a_webhook_ping_with_a_body_is_refused(body: str, w: World) -> None:
    op = _op("POST /api/v1/webhooks/{subscription_id}/ping")
    path, _ = surface.resolve_path(w, w.sides["acme"], op.path)
    response = _send(w, op, path, {}, body)
    assert response.status_code == 422, response.content
    assert _fields(response) == (["foo"] if body.startswith("{") else ["body"])


def test_dismissing_a_mail_with_a_body_is_refused(w: World) -> None:
    op = _op("POST /api/v1/mail/inbound/{mail_id}/dismiss")
    path, _ = surface.resolve_path(w, w.sides["acme"], op.path)
    before = database_state()
    response = _send(w, op, path, {}, '{"extra": 1}')
    assert response.status_code == 422, response.content
    assert _fields(response) == ["extra"]
    assert changed_tables(before, database_state()) == []


def test_a_stranger_is_told_to_authenticate_first(w: World) -> None:
    response = w.api_client("anonymous").get("/api/v1/tickets", {"zz_unknown": 1})
    assert response.status_code == 401, response.content
