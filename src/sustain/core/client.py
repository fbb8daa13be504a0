"""The client's address: REMOTE_ADDR, or behind a trusted reverse proxy the address that proxy
saw, read from X-Forwarded-For right to left past the proxies named in
settings.TRUSTED_PROXIES. The header is never believed from anyone else: a client that sends
its own X-Forwarded-For straight to us is still known by its REMOTE_ADDR."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def parse_networks(spec: list[str]) -> tuple[Network, ...]:
    """The networks of SUSTAIN_TRUSTED_PROXIES; a wrong entry stops the start with its name."""
    try:
        return _networks(tuple(spec))
    except ValueError as exc:
        raise ValueError(f"SUSTAIN_TRUSTED_PROXIES: {exc}") from None


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted() -> tuple[Network, ...]:
    return parse_networks(list(getattr(settings, "TRUSTED_PROXIES", [])))


def from_trusted_proxy(request: HttpRequest) -> bool:
    address = _address(request.META.get("REMOTE_ADDR", ""))
    return address is not None and any(address in net for net in _trusted())


def client_address(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = _trusted()
    address = _address(remote)
    if address is None or not any(address in net for net in trusted):
        return str(address) if address else remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        seen = _address(hop)
        if seen is None:
            break  # a malformed hop: nothing to its left can be trusted
        address = seen
        if not any(seen in net for net in trusted):
            break
    return str(address)


class ForwardedHeadersMiddleware:
    """Drop X-Forwarded-* headers that did not come from a trusted proxy, before anything reads
    them: Django believes X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER) from whoever sends it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not from_trusted_proxy(request):
            for name in [k for k in request.META if k.startswith("HTTP_X_FORWARDED_")]:
                del request.META[name]
        return self.get_response(request)
