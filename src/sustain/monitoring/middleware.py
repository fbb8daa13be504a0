"""Request latency for `/metrics`: how long each request took, by method, status class and the
URL route's name (never the raw path, so the label set stays small)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from sustain.monitoring.metrics import observe_request


class RequestLatencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.view_name if match is not None else ""
        observe_request(
            request.method or "", response.status_code, route, time.perf_counter() - started
        )
        return response
