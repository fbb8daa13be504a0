"""Shared fixtures. The base test class lives in tests/base.py."""

import pytest


@pytest.fixture(autouse=True)
def _clear_cache():
    """Login throttling and other cached state never leak between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
