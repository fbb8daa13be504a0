"""Shared fixtures. The base test class lives in tests/base.py."""

import pytest
from hypothesis import HealthCheck, settings

# Property tests judge what the code does, not how fast a shared 2-core machine runs it: no
# per-example deadline and no "too slow" health check (both failed under a load of 17).
settings.register_profile(
    "sustain",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("sustain")


@pytest.fixture(autouse=True)
def _clear_cache():
    """Login throttling and other cached state never leak between tests."""
    from django.core.cache import cache

    from sustain.monitoring import rule_match

    cache.clear()
    rule_match.forget()  # ids are reused after a test's rollback: the matches kept go
    yield
