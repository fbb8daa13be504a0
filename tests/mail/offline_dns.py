"""An offline DNS for the tests (SUSTAIN_MAIL_DNS_RESOLVER in tests/settings.py): it answers
only what a test put in, so no test reaches the network; every name asked is remembered."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

_records: dict[str, bytes | Exception] = {}
asked: list[str] = []


def txt(name: str, timeout: float = 5) -> bytes | None:
    name = name.rstrip(".").lower()
    asked.append(name)
    value = _records.get(name)
    if isinstance(value, Exception):
        raise value
    return value


@contextmanager
def records(answers: dict[str, bytes | Exception]) -> Iterator[None]:
    """TXT answers (or exceptions to raise) for the block's duration; answers kept in the cache
    (authentication.CACHE_SECONDS) are forgotten, as if their time were up."""
    from django.core.cache import cache

    cache.clear()
    before = dict(_records)
    _records.update({k.rstrip(".").lower(): v for k, v in answers.items()})
    asked.clear()
    try:
        yield
    finally:
        _records.clear()
        _records.update(before)
        cache.clear()
