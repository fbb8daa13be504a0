"""The one door to the outside world: every outbound HTTP request goes through `request()`,
every other outbound TCP connection (IMAP) through `open_connection()`.

Webhooks today; probes, scrapes, Prometheus data sources and database collectors later. The
guard keeps the server's own network out of reach of whoever chooses a URL (SSRF):

- only `http` and `https`, no user name or password in the URL, a host in canonical form
  (numeric hosts only as dotted quads or bracketed IPv6: `2130706433`, `0x7f000001`, `127.1`
  and `0177.0.0.1` are refused rather than guessed at the way `inet_aton` would);
- the host is resolved once and EVERY address it resolves to must be public
  (`ipaddress.is_global`, plus explicit loopback, private, link-local, CGNAT, multicast,
  reserved; IPv4 addresses embedded in IPv6, as in `::ffff:127.0.0.1`, NAT64 `64:ff9b::/96` and
  6to4, are judged by the IPv4 address) or in a network an administrator allows on purpose
  (settings.OUTBOUND_ALLOW_NETWORKS); `localhost`, `*.localhost` and cloud metadata names are
  refused by name;
- the connection goes to the checked address (no second lookup, so DNS rebinding between the
  check and the connection cannot change the target) while the Host header, the TLS server
  name (SNI) and certificate verification keep the URL's host name;
- redirects are never followed (the 3xx is the answer), the whole request has one deadline
  (DNS, connect, TLS, sending, the answer), and at most `max_bytes` of the body are read;
- over HTTPS the answer carries the verified certificate's expiry (probes warn ahead of it).

Failures raise `OutboundError` whose `kind` says what happened in words fit for a log a user
reads ("connection refused", "address not allowed: private network"); the socket's own error
text never leaves this module, so a log of attempts cannot be used as a port scanner.

Tests make names resolve without the network with `using_resolver()`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import enum
import errno
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port → the addresses it resolves to (strings); raises OutboundError(NOT_RESOLVED).
Resolver = Callable[[str, int], Sequence[str]]

DEFAULT_MAX_BYTES = 64 * 1024
URL_MAX = 2000

# Names that reach the machine itself or a cloud's instance metadata whatever DNS says.
BLOCKED_NAMES = frozenset(
    {
        "localhost",
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.com",
        "metadata.tencentyun.com",
    }
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# Not globally reachable, though this Python's is_global does not know it (yet).
NOT_PUBLIC = tuple(ipaddress.ip_network(n) for n in ("192.0.0.0/24", "3fff::/20", "64:ff9b:1::/48"))
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


class Kind(enum.StrEnum):
    """What went wrong, in the words a delivery log shows."""

    INVALID_URL = "URL not valid"
    SCHEME = "scheme not allowed"
    NOT_ALLOWED = "address not allowed"
    NOT_RESOLVED = "name not resolved"
    REFUSED = "connection refused"
    UNREACHABLE = "network unreachable"
    TIMEOUT = "timed out"
    TLS = "TLS handshake failed"
    RESET = "connection reset"
    CONNECTION = "connection failed"
    PROTOCOL = "invalid HTTP answer"


class OutboundError(Exception):
    """A refused or failed request. `str()` is `kind`, then `: reason` when there is one; both
    are chosen here, never copied from a socket or a server."""

    def __init__(self, kind: Kind, reason: str = ""):
        self.kind = kind
        self.reason = reason
        super().__init__(f"{kind}: {reason}" if reason else str(kind))


@dataclass(frozen=True)
class Target:
    """A checked URL: the scheme, the host in ASCII (IPv6 without brackets), the port, and what
    goes on the request line."""

    scheme: str
    host: str
    port: int
    path: str
    literal: IPAddress | None  # the host is an IP address


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes  # at most max_bytes
    truncated: bool  # more was sent (or was still coming at the deadline)
    address: str  # the address connected to
    cert_expires_at: datetime | None = None  # HTTPS: the server certificate's notAfter

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status < 400

    def header(self, name: str, default: str = "") -> str:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), default)


# --- URLs and addresses -----------------------------------------------------------------------
def parse(url: str) -> Target:
    """Check the form of a URL (nothing is resolved): OutboundError if it is not allowed."""
    url = str(url or "")
    if not url or len(url) > URL_MAX or any(c.isspace() or ord(c) < 32 for c in url):
        raise OutboundError(Kind.INVALID_URL)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutboundError(Kind.INVALID_URL) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise OutboundError(Kind.SCHEME)
    if "@" in parts.netloc or "\\" in url.split("?")[0].split("#")[0]:
        raise OutboundError(Kind.INVALID_URL, "user name or password in the URL")
    if not parts.hostname or (port is not None and not 0 < port < 65536):
        raise OutboundError(Kind.INVALID_URL)
    host, literal = _host(parts.hostname, bracketed=parts.netloc.startswith("["))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path, literal)


def _host(hostname: str, *, bracketed: bool) -> tuple[str, IPAddress | None]:
    """The host in the form a resolver would use; numeric forms only when canonical."""
    if bracketed:
        try:
            v6 = ipaddress.IPv6Address(hostname)
        except ValueError:
            raise OutboundError(Kind.INVALID_URL) from None
        if v6.scope_id:
            raise OutboundError(Kind.INVALID_URL, "scoped IPv6 address")
        return str(v6), v6
    try:  # IDNA also folds look-alikes (full-width digits and dots) to ASCII
        host = hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise OutboundError(Kind.INVALID_URL) from None
    bare = host[:-1] if host.endswith(".") else host
    labels = bare.split(".")
    if not bare or not all(_LABEL.match(label) for label in labels):
        raise OutboundError(Kind.INVALID_URL)
    # As WHATWG URL parsing does: a host whose last label is a number is an IPv4 address, and
    # here it must be written as four decimal parts without leading zeros.
    if _NUMERIC_LABEL.match(labels[-1]):
        try:
            address = ipaddress.IPv4Address(bare)
        except ValueError:
            raise OutboundError(Kind.INVALID_URL, "numeric host not in dotted-quad form") from None
        return str(address), address
    if bare in BLOCKED_NAMES or bare.endswith(".localhost"):
        raise OutboundError(Kind.NOT_ALLOWED, "local or metadata host name")
    return bare, None


@lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(v, strict=False) for v in values)


def allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return _networks(tuple(getattr(settings, "OUTBOUND_ALLOW_NETWORKS", ()) or ()))


def _is_v6(address: IPAddress) -> bool:
    return isinstance(address, ipaddress.IPv6Address)


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: mapped, NAT64 (well-known prefix) or 6to4."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def blocked_reason(address: IPAddress) -> str | None:
    """Why a request may not go to `address` (None: it may)."""
    v6 = address if isinstance(address, ipaddress.IPv6Address) else None
    embedded = _embedded_v4(v6) if v6 is not None else None
    allowed = allowed_networks()
    if any(address in net or (embedded is not None and embedded in net) for net in allowed):
        return None
    if v6 is not None and embedded is not None:
        if reason := blocked_reason(embedded):
            return reason
        if v6.ipv4_mapped is not None or v6 in NAT64:
            return None  # a public IPv4 address reached over IPv6
    return _kind_of_blocked(address)


def _kind_of_blocked(address: IPAddress) -> str | None:
    """What kind of address `address` is when it is not one requests may go to."""
    if address in METADATA_ADDRESSES:
        return "cloud metadata service"
    if address.is_loopback:
        return "loopback"
    if address.is_unspecified or address in THIS_NETWORK:
        return "unspecified address"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address in CGNAT:
        return "shared address space (CGNAT)"
    if address == ipaddress.IPv4Address("255.255.255.255"):
        return "broadcast"
    if address.is_reserved or (_is_v6(address) and address in IPV4_COMPATIBLE):
        return "reserved"
    if address.is_private:
        return "private network"
    if not address.is_global or any(address in net for net in NOT_PUBLIC):
        return "not a public address"
    return None


def check_address(address: str | IPAddress) -> IPAddress:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise OutboundError(Kind.NOT_RESOLVED) from None
    if reason := blocked_reason(parsed):
        raise OutboundError(Kind.NOT_ALLOWED, reason)
    return parsed


# --- resolving --------------------------------------------------------------------------------
def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver (hosts file, DNS) gives for a TCP connection."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise OutboundError(Kind.NOT_RESOLVED) from None
    return list(dict.fromkeys(str(info[4][0]) for info in found))


_resolver: Resolver = system_resolver
_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


@contextlib.contextmanager
def using_resolver(resolver: Resolver) -> Iterator[None]:
    """Resolve with `resolver` inside the block (tests: names without the network)."""
    global _resolver
    previous, _resolver = _resolver, resolver
    try:
        yield
    finally:
        _resolver = previous


def _resolve(host: str, port: int, timeout: float, resolver: Resolver | None) -> list[str]:
    """The resolver's answer within `timeout` (getaddrinfo has no timeout of its own, so it runs
    in a small pool and is abandoned, not waited for, when late)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="outbound-dns")
    future = _pool.submit(resolver or _resolver, host, port)
    try:
        addresses = list(future.result(timeout=max(timeout, 0.001)))
    except concurrent.futures.TimeoutError:
        raise OutboundError(Kind.NOT_RESOLVED, "timed out") from None
    except OutboundError:
        raise
    except Exception:
        raise OutboundError(Kind.NOT_RESOLVED) from None
    if not addresses:
        raise OutboundError(Kind.NOT_RESOLVED)
    return addresses


def check_target(url: str, *, timeout: float = 5.0, resolver: Resolver | None = None) -> Target:
    """Check a URL where it is saved: its form, and every address its host resolves to now.
    A name that does not resolve (yet) passes; the request checks again when it is made."""
    target = parse(url)
    if target.literal is not None:
        check_address(target.literal)
        return target
    try:
        addresses = _resolve(target.host, target.port, timeout, resolver)
    except OutboundError as exc:
        if exc.kind is Kind.NOT_RESOLVED:
            return target
        raise
    for address in addresses:
        check_address(address)
    return target


Connection = socket.socket  # what open_connection gives (callers need not import socket)


def open_connection(
    host: str, port: int, *, timeout: float = 10.0, resolver: Resolver | None = None
) -> Connection:
    """A TCP connection to `host`:`port` for protocols other than HTTP (IMAP): the host in
    canonical form, every address it resolves to checked, the connection made to a checked one.
    TLS, if any, is the caller's, with the host name as server name."""
    if not 0 < port < 65536:
        raise OutboundError(Kind.INVALID_URL, "port out of range")
    name, literal = _host(str(host or ""), bracketed=":" in str(host or ""))
    if literal is not None:
        addresses = [check_address(literal)]
    else:
        addresses = [check_address(a) for a in _resolve(name, port, timeout, resolver)]
    last = OutboundError(Kind.CONNECTION)
    for address in addresses:
        family = socket.AF_INET6 if _is_v6(address) else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect((str(address), port))
        except OSError as exc:
            sock.close()
            last = _kind_of(exc)
            continue
        return sock
    raise last


# --- the request ------------------------------------------------------------------------------
class _PinnedConnection(http.client.HTTPConnection):
    """HTTP to the checked address; `host` (Host header) stays the URL's host name."""

    def __init__(self, target: Target, address: IPAddress, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = address
        self.raw: socket.socket | None = None  # the TCP socket, for the deadline to shut

    def _socket(self) -> socket.socket:
        family = socket.AF_INET6 if _is_v6(self.address) else socket.AF_INET
        sock = self.raw = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect((str(self.address), self.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except BaseException:
            sock.close()
            raise
        return sock

    def connect(self) -> None:
        self.sock = self._socket()


class _PinnedTLSConnection(_PinnedConnection):
    """HTTPS to the checked address, with SNI and certificate verification for the host name."""

    def __init__(self, target: Target, address: IPAddress, timeout: float, context: ssl.SSLContext):
        super().__init__(target, address, timeout)
        self.context = context

    def connect(self) -> None:
        raw = self._socket()
        try:
            self.sock = self.context.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise
        self.cert_expires_at = _not_after(self.sock.getpeercert())


def _not_after(cert: Any) -> datetime | None:
    """A verified peer certificate's expiry (None without verification, or unreadable)."""
    try:
        return datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), UTC)
    except (KeyError, TypeError, ValueError):
        return None


_NOT_VALID = "certificate not valid for the host"
# OpenSSL's X509_V_ERR_* codes worth naming apart (the rest: not valid for the host).
_VERIFY_REASONS = {
    9: "certificate not yet valid",
    10: "certificate expired",
    18: "self-signed certificate",
    19: "self-signed certificate in the chain",
    20: "certificate issuer not trusted",
}


def _kind_of(exc: BaseException) -> OutboundError:
    """Our words for a socket, TLS or HTTP failure (its own text could describe the network)."""
    if isinstance(exc, OutboundError):
        return exc
    if isinstance(exc, ssl.SSLCertVerificationError):
        return OutboundError(Kind.TLS, _VERIFY_REASONS.get(exc.verify_code, _NOT_VALID))
    if isinstance(exc, ssl.SSLError):
        return OutboundError(Kind.TLS)
    if isinstance(exc, TimeoutError | socket.timeout):
        return OutboundError(Kind.TIMEOUT)
    if isinstance(exc, ConnectionRefusedError):
        return OutboundError(Kind.REFUSED)
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return OutboundError(Kind.RESET)
    if isinstance(exc, http.client.HTTPException):
        return OutboundError(Kind.PROTOCOL)
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return OutboundError(Kind.UNREACHABLE)
    return OutboundError(Kind.CONNECTION)


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    resolver: Resolver | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> Response:
    """Make one HTTP request to a checked address within `timeout` seconds in all; an answer of
    any status is returned (a redirect too: it is not followed), a failure raises
    OutboundError."""
    deadline = time.monotonic() + timeout
    target = parse(url)
    if target.literal is not None:
        addresses = [check_address(target.literal)]
    else:
        # Every address is checked before any is tried: one bad answer refuses the name.
        found = _resolve(target.host, target.port, timeout, resolver)
        addresses = [check_address(a) for a in found]
    last: OutboundError = OutboundError(Kind.CONNECTION)
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OutboundError(Kind.TIMEOUT)
        try:
            return _exchange(
                target, address, method, body, headers, deadline, max_bytes, ssl_context
            )
        except OutboundError as exc:
            last = exc
            if exc.kind not in (Kind.REFUSED, Kind.UNREACHABLE, Kind.TIMEOUT):
                raise  # the server was reached: trying another address would send twice
            if exc.kind is Kind.TIMEOUT and time.monotonic() >= deadline:
                raise
    raise last


def _exchange(
    target: Target,
    address: IPAddress,
    method: str,
    body: bytes | None,
    headers: Mapping[str, str] | None,
    deadline: float,
    max_bytes: int,
    ssl_context: ssl.SSLContext | None,
) -> Response:
    remaining = max(deadline - time.monotonic(), 0.001)
    conn: _PinnedConnection
    if target.scheme == "https":
        context = ssl_context or ssl.create_default_context()
        conn = _PinnedTLSConnection(target, address, remaining, context)
    else:
        conn = _PinnedConnection(target, address, remaining)
    # One deadline for the whole exchange: a server trickling a byte at a time would keep a
    # per-read timeout alive for ever, so at the deadline the socket is shut.
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        if conn.raw is not None:  # also cuts a TLS handshake in progress
            with contextlib.suppress(OSError):
                conn.raw.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(remaining, expire)
    timer.daemon = True
    timer.start()
    try:
        try:
            conn.connect()
            sent = {"Accept-Encoding": "identity", "Connection": "close", **(headers or {})}
            conn.request(method, target.path, body=body, headers=sent)
            answer = conn.getresponse()
        except Exception as exc:
            raise OutboundError(Kind.TIMEOUT) if expired.is_set() else _kind_of(exc) from None
        if expired.is_set():  # the head was cut at the deadline: no answer to trust
            raise OutboundError(Kind.TIMEOUT)
        content, truncated = _read(answer, max_bytes)
        return Response(
            status=answer.status,
            reason=str(answer.reason or "")[:100],
            headers=tuple(answer.getheaders()),
            body=content,
            truncated=truncated,
            address=str(address),
            cert_expires_at=getattr(conn, "cert_expires_at", None),
        )
    finally:
        timer.cancel()
        conn.close()


def _read(answer: http.client.HTTPResponse, max_bytes: int) -> tuple[bytes, bool]:
    """At most max_bytes of the body; what arrived before a failure or the deadline counts."""
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= max_bytes:
            chunk = answer.read1(max_bytes + 1 - size)
            if not chunk:
                return b"".join(chunks), False
            chunks.append(chunk)
            size += len(chunk)
    except Exception:  # cut short (the deadline, a reset): keep what arrived
        return b"".join(chunks)[:max_bytes], True
    return b"".join(chunks)[:max_bytes], True
