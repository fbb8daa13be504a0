"""`GET /metrics`: Sustain's own metrics in Prometheus' text format, for a scraper only.

Allowed with `Authorization: Bearer <token>` where the token is SUSTAIN_METRICS_TOKEN or any
live machine token, or from a client address inside SUSTAIN_METRICS_ALLOW (by default the
machine itself: 127.0.0.1/32 and ::1). Anyone else gets 403 and nothing is computed.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from sustain.core.client import client_address
from sustain.monitoring import metrics
from sustain.monitoring.tokens import machine_token


def _bearer(request: HttpRequest) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _token_allowed(raw: str) -> bool:
    if not raw:
        return False
    configured = str(getattr(settings, "METRICS_TOKEN", "") or "")
    if configured and hmac.compare_digest(raw.encode(), configured.encode()):
        return True
    return machine_token(raw) is not None


def _address_allowed(request: HttpRequest) -> bool:
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    networks = getattr(settings, "METRICS_ALLOW", ["127.0.0.1/32", "::1"])
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


def allowed(request: HttpRequest) -> bool:
    return _token_allowed(_bearer(request)) or _address_allowed(request)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        return HttpResponse(
            "Forbidden: /metrics needs a metrics or machine token, or an allowed address.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    body = generate_latest(metrics.scrape_registry())
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
