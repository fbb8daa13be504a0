"""Schemathesis against the served schema, through the WSGI application in this process.

Every operation gets generated requests (schema examples, boundary values, random data)
as an agent and as a customer, on the security suite's fixture world. What must hold
everywhere: no answer is a server error.

The run is deterministic: an explicit seed and derandomized hypothesis send the same requests
on every run and every machine, so a failure in CI is a failure on a laptop. `make test` runs
it; the default number of examples keeps the whole run to a few minutes on two cores.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.security import surface
from tests.security.world import World

# About 1.5 CPU-minutes for every operation and both roles; SUSTAIN_FUZZ_EXAMPLES=200 (and
# another SUSTAIN_FUZZ_SEED) digs deeper by hand.
EXAMPLES = int(os.environ.get("SUSTAIN_FUZZ_EXAMPLES", "15"))
SEED = int(os.environ.get("SUSTAIN_FUZZ_SEED", "9"))
# An agent who serves both customers, and a customer of one.
ROLES = ("alice", "carol")

schema = schemathesis.openapi.from_dict(surface.openapi())
schema.config.generation.update(max_examples=EXAMPLES)
schema.config.seed = SEED
# Examples and boundary values of every parameter, then random data; no multi-step scenarios.
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])

APP = WSGIHandler()


@pytest.fixture
def app(w: World):
    """The application, on the test's transaction: a request's start and end must not close
    the connection that holds it (Django's test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield APP
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error(case, app, w: World) -> None:
    for role in ROLES:
        response = case.call(app=app, headers={"Authorization": f"Bearer {w.tokens[role]}"})
        case.validate_response(response, checks=[not_a_server_error])
