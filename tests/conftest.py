"""Shared fixtures. The base test class lives in tests/base.py."""

import pytest


@pytest.fixture(autouse=True)
def _clear_cache():
    """Login throttling and other cached state never leak between tests."""
    from django.core.cache import cache

    from sustain.monitoring import rule_match

    cache.clear()
    rule_match.forget()  # ids are reused after a test's rollback: the matches kept go
    yield
