"""One fixture world per module, built inside a transaction that is rolled back at the end;
each test runs in a savepoint inside it (pytest-django's `db`), so tests never see each
other's writes and the world is built once, not once per test."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.security.world import ROLES, World, build_world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> World:
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            world = build_world()
            for role in ROLES:  # sessions made now outlive every test's rollback
                world.web_client(role)
            yield world
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def w(world: World, db) -> World:
    """The world, in a test of its own (a savepoint rolled back after the test)."""
    return world
