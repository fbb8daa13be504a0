"""WSGI entry point for gunicorn."""

import gc
import os
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sustain.settings")
_django = get_wsgi_application()

# Python's full garbage collection walks every tracked object, and a Django worker holds some
# 150,000 that live as long as it does (modules, models, URL patterns, compiled templates):
# every few dozen requests one of them stalled for 50-80 ms (the p99 of the queue page and
# the list API). Frozen objects are never walked: freeze what start-up made, and once more
# after the first requests have loaded what is only built on first use.
gc.freeze()
_WARM_UP = 20
_served = 0


def application(environ: dict[str, Any], start_response: Any) -> Any:
    global _served
    response = _django(environ, start_response)
    if _served < _WARM_UP:
        _served += 1
        if _served == _WARM_UP:
            gc.collect()  # what is garbage now must not be frozen with the rest
            gc.freeze()
    return response
